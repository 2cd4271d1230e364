"""The explore tabs, the Why? map and the staff compare page, driven by touch events."""

from __future__ import annotations

import time

import numpy as np

from kiosk.session.fingerprint_words import square_words
from kiosk.session.screens import Screen
from kiosk.ui import explain_views
from tests.ui.conftest import assert_not_blank

MOVES = ("Still", "Shake", "Circle")
JOB_DEADLINE_S = 900.0


def _finished(job, what: str) -> None:
    """Wait for a worker (training, pictures, comparison) by polling, with a generous deadline.

    These jobs run in another process or thread on real time; a loaded machine
    can take minutes, so the deadline is only there to turn a hang into a failure.
    """
    deadline = time.monotonic() + JOB_DEADLINE_S
    while not job.done:
        assert time.monotonic() < deadline, f"{what} did not finish in {JOB_DEADLINE_S:.0f} s"
        time.sleep(0.05)


def _trained(d) -> None:
    j = d.journey
    j.connect_pretend()
    j.pick(*MOVES)
    for index in range(len(MOVES)):
        j.record(index, 3)
    d.session.train()
    _finished(d.session.learning.training, "training")
    d.frames(2)
    assert d.session.learning.trained is not None
    job = d.session.learning.explore.job  # None when it already finished
    if job is not None:
        _finished(job, "the explore pictures")
    d.frames(2)
    assert d.session.learning.explore.result is not None


def test_explore_tabs_and_the_why_map_follow_touches(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    _trained(d)
    assert s.screen is Screen.TRAIN
    body = d.app.scene.tab_body
    shots = {"score": d.pixels(body)}
    for tab in ("map", "squares", "averages"):
        d.tap(f"tab_{tab}")
        assert s.learning.explore.view == tab
        shots[tab] = d.pixels(body)
        assert_not_blank(shots[tab])
    names = list(shots)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(shots[a].astype(int) - shots[b]).mean() > 3, (a, b)
    d.tap("tab_score")
    assert s.learning.explore.view is None
    assert np.abs(d.pixels(body).astype(int) - shots["score"]).mean() < 1

    d.tap("test")
    d.tap("pretend_1")
    d.seconds(1.0)
    d.tap("why")
    d.seconds(0.3)
    panel = d.app.scene.why_area(s)
    squares = d.pixels(panel)
    # A square of the marked fingerprint, tapped, says what it measures.
    tile = explain_views.saliency_tile(d.app.scene._why_squares_rect(s), d.app.cache)
    d.tap_at(explain_views.fingerprint_cell_rects(tile)[13].center)
    assert s.messages.message.text == square_words(13)
    d.seconds(0.1)
    squares = d.pixels(panel)
    d.tap("why_map")
    assert s.learning.why_view == "map"
    d.seconds(0.3)
    first = d.pixels(panel)
    assert np.abs(first.astype(int) - squares).mean() > 3
    d.tap("pretend_0")  # a different move: the live point moves on the map
    d.seconds(1.5)
    assert np.abs(d.pixels(panel).astype(int) - first).mean() > 0.05


def test_portrait_live_view_and_why_take_the_room_the_bars_leave(make_driver) -> None:
    d = make_driver((720, 1280))
    s = d.session
    _trained(d)
    d.tap("test")
    d.tap("pretend_1")
    d.seconds(1.0)
    scene = d.app.scene
    height = d.app.metrics.height
    bars_bottom = max(track.bottom for _, track, _ in scene.bar_rows(len(MOVES), s.simulated))
    # With 3 moves the bars need well under the fixed two thirds of the middle: the live
    # graph and fingerprint start just under them and get the rest.
    assert scene.graph_rect.top - bars_bottom < d.app.metrics.unit // 2
    assert scene.graph_rect.height + scene.fp_rect.height > 0.33 * height
    d.tap("why")
    d.seconds(0.3)
    tabs, area = scene.why_layout(s)
    # Tall enough for the squares and the map, and clear of every slider.
    assert area.height > 0.2 * height
    assert not area.colliderect(scene.graph_rect)  # the live movement stays in view
    assert min(tab.top for tab in tabs) > bars_bottom
    assert d.app.button("why_map").rect == tabs[1]
    squares = d.pixels(area)
    assert_not_blank(squares)
    d.tap("why_map")
    d.seconds(0.3)
    assert np.abs(d.pixels(area).astype(int) - squares).mean() > 3


def test_staff_save_a_set_and_compare_by_touch(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    _trained(d)
    s.open_admin()
    for digit in "1234":
        d.tap(f"pin_{digit}")
    d.tap("pin_ok")
    settings = d.pixels()
    d.tap("save_snapshot")
    assert s.writer.flush()  # committed by the store's writer thread, then said
    d.frames(2)
    assert len(s.store.list_snapshots(s.data.project_id)) == 1
    title = d.app.scene.frame.title
    assert (
        np.abs(
            d.pixels(title).astype(int)
            - settings[title.left : title.right, title.top : title.bottom]
        ).mean()
        > 5
    )
    d.tap("compare")
    assert s.staff.compare.open
    for choice in s.staff.compare.choices:
        d.tap(f"set_{choice.id}")
    assert len(s.staff.compare.picked) == 2
    picking = d.pixels()
    d.tap("compare_start")
    _finished(s.staff.compare.job, "the comparison")  # both sets learn on a worker thread
    d.frames(2)
    assert s.staff.compare.comparison is not None, s.staff.compare.error
    d.seconds(0.5)
    compared = d.pixels(d.app.scene.frame.body)
    assert_not_blank(compared)
    body = d.app.scene.frame.body
    assert (
        np.abs(
            compared.astype(int) - picking[body.left : body.right, body.top : body.bottom]
        ).mean()
        > 5
    )
    d.tap("compare_back")
    assert not s.staff.compare.open and s.screen is Screen.ADMIN


def test_a_square_on_the_squares_and_averages_pages_says_what_it_measures(make_driver) -> None:
    d = make_driver((800, 480))
    s = d.session
    _trained(d)
    page = d.app.scene.tab_body
    for tab, share in (
        ("squares", explain_views.IMPORTANCE_SHARE),
        ("averages", explain_views.AVERAGES_SHARE),
    ):
        d.tap(f"tab_{tab}")
        # Every square of the last move's row (the one with the filter names under it).
        size = explain_views._font_px(page, share, d.app.cache.floor)
        _, rows = explain_views._split_top(page, int(size * 1.6))
        tile = explain_views._row_tiles(rows, size, d.app.cache.floor, len(MOVES))[-1]
        said = set()
        for index, cell in enumerate(explain_views.fingerprint_cell_rects(tile)):
            d.tap_at(cell.center)
            assert s.messages.message is not None, (tab, index)
            assert s.messages.message.text == square_words(index), (tab, index)
            said.add(s.messages.message.text)
        assert len(said) == 24, tab
        # Between the rows' names and their squares nothing is said.
        s.messages.reset()
        d.tap_at((page.left + 4, page.bottom - 4))
        assert s.messages.message is None, tab
