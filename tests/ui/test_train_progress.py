"""The train screen shows training's stages as they really happen, and "Test it" as soon as
the model is here, before the honest score.

The stage list is read from the job (``stage_rows``); the screen test holds a
real training job right after its model arrives (its reader thread waits), so
the in-between moment is shown for as long as the test looks, not by luck.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from kiosk.ml.train_worker import Stage, Trained
from kiosk.session import learning as learning_module
from kiosk.session.screens import Screen
from kiosk.session.training import TrainingJob
from kiosk.ui.scenes.train import stage_rows
from tests.ui.conftest import assert_not_blank

MOVES = ("Still", "Shake", "Circle")
DEADLINE_S = 300.0


def _job(stages: list[str]) -> SimpleNamespace:
    return SimpleNamespace(stages=stages, stage=stages[-1])


def test_the_stage_under_way_is_marked_and_the_ones_before_it_done() -> None:
    rows = stage_rows(_job([Stage.FEATURES, Stage.MODEL]), scoring=False)
    assert [state for _, state in rows] == ["done", "now", "next", "next"]
    assert rows[1][0] == "Learning from all your recordings"


def test_waiting_for_the_learning_helper_is_listed_only_when_it_happened() -> None:
    warm = [words for words, _ in stage_rows(_job([Stage.FEATURES]), scoring=False)]
    cold = stage_rows(_job([Stage.FEATURES, Stage.STARTING]), scoring=False)
    assert "Waking up the learning helper" not in warm
    assert cold[1] == ("Waking up the learning helper", "now")


def test_with_the_model_here_only_the_score_is_still_under_way() -> None:
    rows = stage_rows(_job([Stage.FEATURES, Stage.MODEL, Stage.EXPORT]), scoring=True)
    assert [state for _, state in rows] == ["done", "done", "done", "now"]


class _HeldAtTheModel(TrainingJob):
    release = threading.Event()

    def _message(self, message) -> None:
        super()._message(message)
        if isinstance(message, Trained):
            assert self.release.wait(DEADLINE_S)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch):
    _HeldAtTheModel.release = threading.Event()
    monkeypatch.setattr(learning_module, "TrainingJob", _HeldAtTheModel)
    yield _HeldAtTheModel.release
    _HeldAtTheModel.release.set()


def test_test_it_works_while_the_score_is_still_coming(make_driver, held) -> None:
    d = make_driver((800, 480))
    s, j = d.session, d.journey
    j.connect_pretend()
    j.pick(*MOVES)
    for index in range(len(MOVES)):
        j.record(index, 3)
    d.tap("train")
    job = s.learning.streaming
    assert job is not None and job.wait_model(DEADLINE_S), job.error
    d.frames(2)
    assert s.learning.training is None and s.learning.scoring
    assert d.app.scene.title_for(s) == "It has learned your moves"
    test_it = d.app.button("test")
    assert test_it is not None and not test_it.dimmed  # ready: the score is not waited for
    assert d.app.button("tab_map") is None  # the explore tabs come with the score
    assert_not_blank(d.pixels(d.app.scene.frame.body))
    held.set()  # the score arrives while the visitor looks
    deadline = time.monotonic() + DEADLINE_S
    while not (s.learning.trained is not None and s.learning.trained.scored):
        assert time.monotonic() < deadline, "the score did not arrive"
        d.frames(1)
    d.frames(2)
    assert d.app.button("tab_map") is not None and not s.learning.scoring
    d.tap("test")
    assert s.screen is Screen.TEST and s.learning.tester is not None
