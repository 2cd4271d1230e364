"""Teacher mode's model choice: "Network" or "Nearest neighbours", each with its honest score.

With ``teacher_mode`` on (a staff setting) the train screen offers both
models. ``ModelChoice`` owns the class's pick and every model trained on the
current recordings, one per kind, so switching back and forth is instant and
both honest (cross-validated) scores stay on screen to compare. A change to
the recordings makes them all stale: ``remember`` and ``result_for`` forget
models trained on another version. ``reset`` (the visitor reset, through
``Learning.reset``) forgets the pick and the models.

What the explanations mean differs between the two, and the screens say so
(``similar_caption``): the network's similar recordings only resemble the
movement, while for nearest neighbours the nearest recordings *are* the
reason for the answer. The "Why?" squares work for both (the network's own
gradients; for neighbours, which squares change the answer when set to an
ordinary value: ``kiosk.ml.explain.occlusion_saliency``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kiosk.i18n import N_, _
from kiosk.ml.training import MODEL_KINDS

if TYPE_CHECKING:
    from kiosk.session.training import TrainingResult

NETWORK = "nn"
NEIGHBOURS = "knn"
assert set(MODEL_KINDS) == {NETWORK, NEIGHBOURS}

_NAMES = {NETWORK: N_("Network"), NEIGHBOURS: N_("Nearest neighbours")}
# Short: beside the score on a 7" panel there is room for two lines.
_SENTENCES = {
    NETWORK: N_("It learned a small neural network."),
    NEIGHBOURS: N_("It asks your 3 closest recordings."),
}


def model_name(kind: str) -> str:
    """The kind's name on the screen ("Network", "Nearest neighbours")."""
    return _(_NAMES[kind])


def model_sentence(kind: str) -> str:
    """One sentence a class reads: how this kind of model decides."""
    return _(_SENTENCES[kind])


def similar_caption(kind: str) -> str:
    """The "Why?" panel's caption over the nearest recordings, true for this kind."""
    if kind == NEIGHBOURS:
        return _("Nearest recordings - they decide the answer")
    return _("Similar recordings - not how the model decides")


@dataclass(frozen=True)
class Score:
    """A model's honest score: ``correct`` of ``total`` recordings it had not seen."""

    correct: int
    total: int


def honest_score(result: TrainingResult) -> Score:
    """The score of a model whose evaluation has arrived (``result.scored``)."""
    assert result.evaluation is not None
    confusion = np.asarray(result.evaluation.confusion)
    return Score(int(np.trace(confusion)), int(confusion.sum()))


class ModelChoice:
    """The class's pick and the models trained on the current recordings (one per kind)."""

    def __init__(self) -> None:
        self.kind = NETWORK
        self._results: dict[str, TrainingResult] = {}
        self._version = -1  # the recordings' version the kept models were trained on

    def pick(self, kind: str) -> None:
        if kind not in MODEL_KINDS:
            raise ValueError(f"{kind!r} is not a model kind")
        self.kind = kind

    def remember(self, result: TrainingResult, version: int) -> None:
        """Keep a freshly trained model (models of other recordings are forgotten)."""
        if version != self._version:
            self._results, self._version = {}, version
        self._results[result.model.kind] = result

    def result_for(self, kind: str, version: int) -> TrainingResult | None:
        """The model of ``kind`` trained on these recordings, if there is one."""
        return self._results.get(kind) if version == self._version else None

    def score(self, kind: str, version: int) -> Score | None:
        result = self.result_for(kind, version)
        return None if result is None or result.evaluation is None else honest_score(result)

    def reset(self) -> None:
        self.kind = NETWORK
        self._results = {}
        self._version = -1
