"""The test screen's "Put my model on my micro:bit" at 800x480, 1280x720 and 720x1280.

The button is tapped through real touch events; each step's sentence (plug in,
copying, done, the V1 refusal) must be shown whole, in the button, at no less
than the screen's smallest text size (18 px at 800x480), without overlapping
another target. ``KIOSK_UI_SHOTS=DIR`` keeps the screenshots.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from kiosk.session.take_home import WORDS, Board, Parts, Step
from kiosk.ui.widgets import Button
from tests.session.journey import Journey
from tests.ui.conftest import SIZES, Driver

from .test_layouts import _check_targets


@pytest.fixture(scope="module")
def tested(tmp_path_factory):
    """A session on the test screen with three moves and a trained model."""
    journey = Journey(tmp_path_factory.mktemp("take-home"))
    journey.on_the_test_screen(("Still", "Shake", "Circle"))
    yield journey
    journey.session.link.close()
    journey.store.close()


class _Steps:
    """Pretend drives and copy, held at each step until the test lets them go on."""

    def __init__(self, tmp: Path, board_version: int) -> None:
        self.board = Board(tmp, board_version, "9904" if board_version == 2 else "9900")
        self.plugged = threading.Event()
        self.copy_may_end = threading.Event()
        self.copied = threading.Event()

    def parts(self) -> Parts:
        return Parts(
            self.drives, self.copy, lambda program: ":00000001FF\n", settle_s=0.0, poll_s=0.01
        )

    def drives(self) -> list[Board]:
        return [self.board] if self.plugged.is_set() else []

    def copy(self, hex_path: Path, drive: Path) -> None:
        self.copy_may_end.wait(60)
        self.copied.set()


def _button(driver: Driver) -> Button:
    return next(b for b in driver.app.buttons if b.name == "take_home")


def _shown_at(driver: Driver, step: Step, state: str, out: Path) -> None:
    session = driver.session
    deadline = time.monotonic() + 60  # the job's thread answers when the machine lets it
    while session.take_home.step is not step and time.monotonic() < deadline:
        driver.frames(1)
    assert session.take_home.step is step
    driver.app.cache.drawn = []
    driver.app._static_key = None  # draw the whole screen afresh, the button too
    driver.frames(1)
    drawn, driver.app.cache.drawn = driver.app.cache.drawn, None
    button = _button(driver)
    label = WORDS[step] if step is not Step.IDLE else session.take_home.button_words
    assert button.label.replace("\n", " ") == label  # the whole sentence, none of it cut
    texts = [(words, px) for words, px in drawn if words in button.label.split("\n")]
    assert texts and min(px for _, px in texts) >= driver.app.metrics.min_px, texts
    _check_targets(driver.app, state)
    driver.app.screenshot(str(out / f"take_home_{state}.png"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("board_version", (2, 1))
def test_each_step_in_one_readable_sentence(tested, size, board_version, tmp_path) -> None:
    keep = os.environ.get("KIOSK_UI_SHOTS")
    out = Path(keep) / f"{size[0]}x{size[1]}" if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    session = tested.session
    session.take_home.reset()
    steps = _Steps(tmp_path, board_version)
    session.take_home.parts = steps.parts()
    driver = Driver(tested, size)
    try:
        driver.frames(2)
        _shown_at(driver, Step.IDLE, "ready", out)
        driver.tap("take_home")
        _shown_at(driver, Step.PLUG_IN, "plug_in", out)
        steps.plugged.set()
        if board_version == 1:
            _shown_at(driver, Step.V1, "v1", out)
            assert not steps.copied.is_set()
            return
        _shown_at(driver, Step.COPYING, "copying", out)
        steps.copy_may_end.set()
        _shown_at(driver, Step.DONE, "done", out)
        assert steps.copied.is_set()
    finally:
        steps.copy_may_end.set()
        session.take_home.reset()
        driver.app.close()
