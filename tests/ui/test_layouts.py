"""Every screen at 800x480, 1280x720 and 720x1280, in every language: finger-sized targets,
on screen, no overlaps.

One session is taken through every state once (with the real trainer), then
drawn at each size; each state's screenshot must not be blank and must
differ from the previous state's.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pygame
import pytest

from kiosk import i18n
from kiosk.session.own_move import Step
from kiosk.session.screens import Screen
from kiosk.session.usb_desk import UsbDesk
from kiosk.ui.app import AppOptions, KioskApp
from tests.session.journey import Journey
from tests.ui.conftest import SIZES, assert_not_blank

MOVES = ("Still", "Shake", "Circle", "Wave", "Tilt")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A session with five moves, three recordings each, and a trained model."""
    journey = Journey(tmp_path_factory.mktemp("layouts"))
    journey.connect_pretend()
    journey.pick(*MOVES)
    for index in range(len(MOVES)):
        journey.record(index, 3)
        if index == len(MOVES) - 2:  # a saved set to compare with: one move fewer
            journey.session.staff.compare.save_snapshot(journey.session.data.n_recordings)
    journey.session.staff.custom_action_names.extend(["Hop", "Skip"])
    journey.session.train()
    journey.session.learning.training.wait(900)
    journey.advance(0.05)
    assert journey.session.learning.trained is not None, journey.session.learning.training_error
    journey.finish_explore()
    journey.advance(0.05)
    assert journey.session.learning.explore.importance_ready
    # A USB stick with more CreateAI files than fit on one page (the admin's USB page).
    media = tmp_path_factory.mktemp("media")
    stick = media / "usb-stick"
    stick.mkdir()
    for name in ("class 4B shake-still-circle-data-samples.json", "wave.json", "a.json"):
        (stick / name).write_text("[]")
    for i in range(5):
        (stick / f"lesson-{i}.json").write_text("[]")
    mounts = media / "mounts"
    mounts.write_text(f"/dev/sda1 {stick} vfat rw 0 0\n")
    journey.session.usb = UsbDesk(mounts_file=mounts, roots=(media,), clock=journey.clock)
    yield journey
    journey.session.link.close()
    journey.store.close()


def _states(j: Journey):
    """(name, how to get there) for every state worth drawing."""
    s = j.session

    def admin(unlock: bool, keyboard: bool = False):
        def go():
            s.open_admin()
            if unlock:
                for digit in "1234":
                    s.enter_pin_digit(digit)
                s.submit_pin()
            if keyboard:
                s.admin_open_keyboard()
                for key in "hop":
                    s.admin_type(key)

        return go

    def go_to(screen: Screen):
        def go():
            s.close_admin() if s.screen is Screen.ADMIN else None
            s.screen = screen

        return go

    def make_move(picture: bool):
        def go():
            # Five moves are picked, so the visitor could not start one: set it up directly.
            s.own_move.begin("House")
            for key in "zigzag":
                s.own_move.keyboard.type_key(key)
            s.own_move.step = Step.PICTURE if picture else Step.NAME
            s.screen = Screen.MAKE_MOVE

        return go

    def explore(view: str):
        def go():
            s.screen = Screen.TRAIN
            s.show_explore(view)

        return go

    def score():
        s.close_explore()

    def why_map():
        s.show_why_view("map")
        j.advance(0.2)

    def record_lost():
        s.show_why_view("squares")
        s.toggle_why()
        s.screen = Screen.RECORD
        s.link.drop_out(6.0)
        j.advance(0.1)
        assert s.connection.problem is not None

    def compare_pick():
        s.close_admin()
        j.advance(6.5)  # the board comes back
        s.open_admin()
        for digit in "1234":
            s.enter_pin_digit(digit)
        s.submit_pin()
        s.admin_open_compare()
        for choice in s.staff.compare.choices[:2]:
            s.admin_compare_pick(choice.id)

    def compared():
        s.admin_compare_start()
        s.staff.compare.job.wait(900)
        j.advance(0.3)
        assert s.staff.compare.comparison is not None and s.staff.compare.live is not None

    def recording():
        s.screen = Screen.RECORD
        s.record(2)
        j.advance(0.4)

    def viewer():
        s.collecting.recorder.cancel()
        s.view_recording(s.data.actions[0].recordings[0].id)

    def testing():
        s.close_recording()
        s.test()
        s.set_pretend_gesture("shake")
        j.advance(1.5)

    def why():
        s.toggle_why()
        j.advance(0.3)
        assert s.learning.explanation is not None

    def lost():
        s.screen = Screen.TEST
        j.advance(0.1)

    def teacher_score():
        s.close_admin()
        s.settings = s.settings.changed("teacher_mode", True)
        s.screen = Screen.TRAIN
        s.close_explore()
        learn("nn")

    def learn(kind: str) -> None:
        s.choose_model(kind)  # trains, unless a model of that kind is kept for these recordings
        if s.learning.training is not None:
            s.learning.training.wait(900)
        # The map, averages and live explainer are made on a thread: wait for them, not
        # for the fake clock, so a busy machine draws the same states.
        j.finish_explore()

    def teacher_neighbours():
        learn("knn")
        assert s.learning.trained is not None and s.learning.trained.model.kind == "knn"

    def teacher_why():
        s.test()
        s.set_pretend_gesture("shake")
        s.toggle_why() if not s.learning.showing_why else None
        s.show_why_view("squares")
        j.finish_explore()
        j.advance(1.5)
        assert s.learning.explanation is not None

    def usb():
        # Teacher mode ends here, back on the network: the next walk of these states (the
        # text-size test walks them once per language) starts as the first one did.
        s.screen = Screen.TRAIN
        learn("nn")
        s.settings = s.settings.changed("teacher_mode", False)
        s.open_admin()
        for digit in "1234":
            s.enter_pin_digit(digit)
        s.submit_pin()
        s.admin_usb_open()
        assert s.usb.stick is not None

    def usb_problem():
        s.admin_usb_import(s.usb.shown_files[0])
        assert s.usb.outcome is not None and not s.usb.outcome.good

    return [
        ("attract", go_to(Screen.ATTRACT)),
        ("pair", go_to(Screen.PAIR)),
        ("actions", go_to(Screen.ACTIONS)),
        ("make_move_name", make_move(picture=False)),
        ("make_move_picture", make_move(picture=True)),
        ("record", go_to(Screen.RECORD)),
        ("recording", recording),
        ("viewer", viewer),
        ("train", go_to(Screen.TRAIN)),
        ("explore_map", explore("map")),
        ("explore_squares", explore("squares")),
        ("explore_averages", explore("averages")),
        ("score", score),
        ("test", testing),
        ("why", why),
        ("why_map", why_map),
        ("record_lost", record_lost),
        ("lost", lost),
        ("pin", admin(False)),
        ("settings", admin(True)),
        ("keyboard", admin(True, keyboard=True)),
        ("compare_pick", compare_pick),
        ("compared", compared),
        ("teacher_score", teacher_score),
        ("teacher_neighbours", teacher_neighbours),
        ("teacher_why", teacher_why),
        ("usb", usb),
        ("usb_problem", usb_problem),
    ]


ROW_BUTTONS = ("action_", "more_", "tile_")


def _check_targets(app: KioskApp, state: str) -> None:
    m = app.metrics
    screen = pygame.Rect(0, 0, m.width, m.height)
    buttons = [b for b in app.buttons if b.name != "touch_to_start"]
    assert buttons or state == "attract", state
    for b in buttons:
        where = f"{state}: {b.name} {b.rect} at {m.width}x{m.height}"
        assert screen.contains(b.rect), where
        # The record screen's rows may shrink to 0.8 of a unit (12 mm on the 7" screen) so
        # five moves leave room for the fingerprint's introduction under them.
        smallest = int(m.unit * 0.8) if b.name.startswith(ROW_BUTTONS) else m.unit
        assert min(b.rect.width, b.rect.height) >= smallest - 1, (
            f"{where} is smaller than {smallest} px"
        )
    for a, b in itertools.combinations([b for b in buttons if b.enabled], 2):
        assert not a.rect.colliderect(b.rect), f"{state}: {a.name} overlaps {b.name}"


@pytest.mark.slow  # every state drawn at every size; the text-size test covers the fast tier
@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_state_at_every_size(trained, size, language, tmp_path) -> None:
    # KIOSK_UI_SHOTS=DIR keeps the screenshots for a person to look at (DIR/de/800x480/...).
    keep = os.environ.get("KIOSK_UI_SHOTS")
    out = Path(keep) / language / f"{size[0]}x{size[1]}" if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    app = KioskApp(trained.session, AppOptions(size=size, fullscreen=False))
    try:
        assert i18n.set_language(language), f"no catalog for {language}"
        previous = None
        for state, go in _states(trained):
            go()
            trained.advance(0.04)
            app.step()
            app.step()
            pixels = pygame.surfarray.array3d(app.window)
            assert_not_blank(pixels)
            if previous is not None:
                assert np.abs(pixels.astype(int) - previous).mean() > 1.0, (
                    f"{state} looks unchanged"
                )
            previous = pixels
            _check_targets(app, state)
            app.screenshot(str(out / f"{state}.png"))
        trained.session.close_admin()
        trained.advance(3.5)
    finally:
        app.close()
        i18n.set_language(i18n.SOURCE_LANGUAGE)
