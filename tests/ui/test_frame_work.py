"""What a frame does not do: wait for the disk, redraw the map's dots, or stall on a full GC.

Behaviour only (which thread committed, how many times the dots were drawn,
what the collector was asked to do); the time these take is the bench's
business (``kiosk bench``: ``journey_*``, ``slow_disk_journey_*``).
"""

from __future__ import annotations

import gc
import threading
import time

import pygame

from kiosk.session.screens import Screen
from kiosk.ui.app import Collector


class SlowDisk:
    """Every commit waits 200 ms (an SD card's bad fsync); the threads that waited are noted."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def __call__(self) -> None:
        self.threads.append(threading.current_thread())
        time.sleep(0.2)


def test_no_frame_waits_for_a_commit(make_driver) -> None:
    """Picking moves, recording, dragging a threshold, training, testing: the writer commits."""
    d = make_driver((800, 480))
    s, j = d.session, d.journey
    disk = SlowDisk()
    j.store.before_commit = disk
    s.start()
    s.use_simulated_board()
    d.frames(5)
    for name in ("Still", "Shake"):
        s.choose_action(name)
    s.actions_done()
    for index in range(2):
        s.record_many(index, 3)
        d.until(lambda: not s.collecting.recorder.busy)
    assert s.data.n_recordings == 6  # shown at once
    s.train()
    s.learning.training.wait(900)
    d.until(lambda: s.learning.training is None)
    s.test()
    assert s.screen is Screen.TEST
    slider = d.app.button("threshold_0")
    d.post_finger(pygame.FINGERDOWN, slider.rect.center)
    for dx in range(0, 60, 6):
        d.post_finger(pygame.FINGERMOTION, (slider.rect.centerx - dx, slider.rect.centery))
        d.frames(1)
    d.post_finger(pygame.FINGERUP, (slider.rect.centerx - 60, slider.rect.centery))
    d.frames(2)
    assert s.writer.flush(120)
    assert s.recordings_made == 6  # each one told as kept once committed
    assert disk.threads, "nothing was committed"
    assert threading.current_thread() not in disk.threads
    assert {t.name for t in disk.threads} == {"store-writer"}
    stored = j.store.load_dataset(s.data.project_id)
    assert sum(len(a.recordings) for a in stored.actions) == 6
    assert stored.actions[0].threshold == s.data.actions[0].threshold
    assert j.store.latest_model(s.data.project_id) is not None


def test_the_why_map_draws_its_dots_once_per_model(make_driver) -> None:
    d = make_driver((800, 480))
    s, j = d.session, d.journey
    j.connect_pretend()
    j.pick("Still", "Shake")
    for index in range(2):
        j.record(index, 3)
    s.train()
    s.learning.training.wait(900)
    d.frames(3)
    s.test()
    s.set_pretend_gesture("shake")
    s.toggle_why()
    s.show_why_view("map")
    view = d.app.scene._map_view
    d.frames(60)  # new movements, a moving live mark
    assert s.learning.explanation is not None
    assert view.base_draws == 1
    s.show_why_view("squares")
    d.frames(5)
    s.show_why_view("map")
    d.frames(30)
    assert view.base_draws == 1  # back to the same model's map: the cached dots again


def test_full_collections_wait_for_an_idle_frame() -> None:
    before = gc.get_threshold()
    collector = Collector()
    collector.start()
    try:
        assert collector.frozen > 0 and gc.get_freeze_count() > 0
        assert gc.get_threshold()[2] >= Collector.NO_AUTOMATIC_FULL  # none on its own
        # A visitor's frame never runs one, however long since the last.
        collector._last_full -= Collector.FULL_EVERY_S + 1
        assert not collector.after_frame(1.0, idle=False)
        assert not collector.after_frame(Collector.FULL_WITHIN_MS + 1, idle=True)  # a busy frame
        assert collector.after_frame(1.0, idle=True)
        assert not collector.after_frame(1.0, idle=True)  # not again so soon
        collector._last_full -= Collector.FULL_AT_LEAST_S + 1
        assert collector.after_frame(1.0, idle=False)  # a kiosk never idle still collects
    finally:
        collector.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
