"""Teacher mode: the class picks the network or nearest neighbours; both test live and explain."""

from __future__ import annotations

import numpy as np

from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import NeighboursClassifier
from kiosk.session.model_choice import NEIGHBOURS, NETWORK, similar_caption
from kiosk.session.presets import icon_cells
from kiosk.session.screens import Screen

from .journey import Journey


def _recorded(journey: Journey) -> None:
    journey.connect_pretend()
    journey.pick("Still", "Shake", "Circle")
    for index in range(3):
        journey.record(index, 4)


def _finish(journey: Journey) -> None:
    s = journey.session
    assert s.learning.training is not None
    s.learning.training.wait(120)
    journey.advance(0.05)
    assert s.learning.trained is not None, s.learning.training_error


def test_the_class_switches_to_neighbours_and_it_recognises_live(make_journey) -> None:
    journey = make_journey(teacher_mode=True)
    s = journey.session
    _recorded(journey)
    s.train()
    _finish(journey)
    network = s.learning.trained
    assert network is not None and network.model.kind == NETWORK
    s.writer.flush()  # the network's model file is saved by the store's writer thread
    models_saved = len(journey.store.list_models(s.data.project_id))
    assert models_saved >= 1

    s.choose_model(NEIGHBOURS)
    assert s.learning.training is not None and s.learning.training.kind == NEIGHBOURS
    _finish(journey)
    knn = s.learning.trained
    assert knn is not None and isinstance(knn.model, NeighboursClassifier)
    assert knn.tflite == b"" and knn.classifier is knn.model  # numpy predicts live, no TFLite
    # Both honest scores are on offer, each from its own cross-validation.
    version = s.data.version
    assert s.learning.choice.score(NETWORK, version) is not None
    score = s.learning.choice.score(NEIGHBOURS, version)
    assert score is not None and score.total == 12 and score.correct >= 9
    assert knn.evaluation.predicted.shape == (12,)
    # The explore pictures work for neighbours too: the map, and which squares each move
    # needs (permutation importance, measured by retraining neighbours in the worker).
    journey.finish_explore()
    explored = s.learning.explore.result
    assert explored is not None and explored.importance is not None
    assert explored.importance.shape == (3, 24) and explored.importance.max() > 0
    assert explored.map_picture.points.shape == (12, 2)
    # Nothing without a model file is put in the store as if it were one.
    s.writer.flush()
    assert len(journey.store.list_models(s.data.project_id)) == models_saved

    s.test()
    assert s.screen is Screen.TEST
    s.toggle_why()
    for index, gesture in enumerate(("still", "shake", "circle")):
        s.set_pretend_gesture(gesture)
        journey.advance(1.2)
        # Five seconds of the gesture: nearest neighbours on four recordings a move follows
        # the pretend board's variations (a shake can look like a circle for a second), so
        # the check is that the move is the answer most of the time, and the most frequent.
        answers = []
        for _ in range(250):
            journey.advance(0.02)
            answers.append(s.learning.tester.detected)
        hits = answers.count(index)
        assert hits >= 100, f"{gesture} recognised in only {hits} of 250 ticks by neighbours"
        others = [answers.count(c) for c in range(3) if c != index]
        assert hits > max(others), (gesture, hits, others)
    assert s.link._next_icon() == icon_cells(s.data.actions[2].icon)  # the board shows it
    # "Why?" works for neighbours: squares (by occlusion), nearest recordings, the map.
    explanation = s.learning.explanation
    assert explanation is not None and explanation.target == 2
    assert np.abs(explanation.saliency).max() > 0
    assert len(explanation.similar) == 3 and explanation.map_point.shape == (2,)
    assert similar_caption(NEIGHBOURS) != similar_caption(NETWORK)


def test_going_back_to_the_network_uses_the_kept_model(make_journey) -> None:
    journey = make_journey(teacher_mode=True)
    s = journey.session
    _recorded(journey)
    s.choose_model(NEIGHBOURS)  # only on the train screen
    assert s.learning.choice.kind == NETWORK
    s.train()
    _finish(journey)
    network = s.learning.trained
    s.choose_model(NEIGHBOURS)
    _finish(journey)
    s.choose_model(NETWORK)
    assert s.learning.training is None and s.learning.trained is network  # instant
    assert isinstance(network.classifier, TFLiteClassifier)
    # New recordings make both stale: the next pick trains again.
    s.add_more_recordings()
    journey.record(0, 1)
    s.train()
    assert s.learning.training is not None and s.learning.training.kind == NETWORK
    _finish(journey)
    assert s.learning.choice.score(NEIGHBOURS, s.data.version) is None


def test_without_teacher_mode_it_is_always_the_network(make_journey) -> None:
    journey = make_journey()
    s = journey.session
    _recorded(journey)
    s.train()
    _finish(journey)
    s.choose_model(NEIGHBOURS)
    assert s.learning.training is None and s.learning.trained.model.kind == NETWORK


def test_the_visitor_reset_forgets_the_choice(make_journey) -> None:
    journey = make_journey(teacher_mode=True)
    s = journey.session
    _recorded(journey)
    s.train()
    _finish(journey)
    s.choose_model(NEIGHBOURS)
    _finish(journey)
    s.reset_visitor()
    assert s.learning.choice.kind == NETWORK
    assert s.learning.choice.result_for(NEIGHBOURS, s.data.version) is None
