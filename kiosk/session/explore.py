"""What the model learned, prepared off the UI thread once training finishes.

After training, the train screen offers "Explore": a map of every recording
(coloured by move, the ones the honest test got wrong marked), which squares
each move needs (permutation importance on the cross-validation folds, which
trains extra models, so the training process measures it and it arrives
after the score: ``Explorer.add_importance``) and the average fingerprint of
each move. The test screen's "Why?" panel uses the same live explainer
(saliency, similar recordings, the live point on the map). It is computed here
on a worker thread; the screens only draw what ``ExploreResult`` holds.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from kiosk.i18n import N_
from kiosk.ml.explain import LiveExplainer, MapPicture, importance_strength
from kiosk.ml.windows import DataWindow
from kiosk.session.background import BackgroundJob

log = logging.getLogger(__name__)


class ExploreView:
    """The pages of the explore panel on the train screen."""

    MAP = "map"
    SQUARES = "squares"  # which squares each move needs (global importance)
    AVERAGES = "averages"
    ALL = (MAP, SQUARES, AVERAGES)


class WhyView:
    """The two tabs of the test screen's "Why?" panel."""

    SQUARES = "squares"  # saliency over the live fingerprint + similar recordings
    MAP = "map"  # the data map with the live movement moving on it
    ALL = (SQUARES, MAP)


@dataclass(frozen=True)
class ExploreResult:
    """Everything the explore views draw, for one trained model."""

    explainer: LiveExplainer  # live saliency / similar recordings / map point
    class_names: tuple[str, ...]
    map_picture: MapPicture  # every recording, mistakes marked, no live point
    averages: np.ndarray  # (k, 24) mean fingerprint per move, labelled as averages on screen
    importance: np.ndarray | None  # (k, 24) 0..1 per move; None until computed (or if it failed)


class ExploreJob(BackgroundJob):
    """Builds the live explainer (map, averages) on its own thread."""

    name = "explore"
    # The score screen still works without the pictures.
    failure = N_("Could not prepare the pictures ({error}).")

    def __init__(self, trained, window: DataWindow) -> None:
        super().__init__()
        self._trained = trained  # kiosk.session.training.TrainingResult
        self._window = window
        self.result: ExploreResult | None = None

    def _work(self) -> None:
        r = self._trained
        predicted = r.evaluation.predicted if r.evaluation is not None else None
        explainer = LiveExplainer(
            r.model, r.features, r.labels, r.fingerprints, predicted=predicted
        )
        self.result = ExploreResult(
            explainer, tuple(r.classes), explainer.picture, explainer.averages, None
        )


class Explorer:
    """The session's explore state: the job, its result, and which page is shown."""

    def __init__(self) -> None:
        self.job: ExploreJob | None = None
        self.result: ExploreResult | None = None
        self.view: str | None = None  # an ExploreView page while exploring, else None
        self._importance: np.ndarray | None = None  # 0..1 per move, once it has arrived
        self.importance_problem: str | None = None  # why it will not arrive

    def start(self, trained, window: DataWindow) -> None:
        """Begin preparing the pictures for a freshly trained model (forgets the old ones)."""
        self.result = None
        self._importance = None
        self.importance_problem = None
        self.job = ExploreJob(trained, window).start()

    def add_importance(self, raw: np.ndarray | None, problem: str | None = None) -> None:
        """The training process's global importance (or why there is none) has arrived."""
        if self._importance is not None or self.importance_problem is not None:
            return
        if raw is None:
            self.importance_problem = problem or "not measured"
            log.warning("global importance skipped: %s", self.importance_problem)
            return
        self._importance = importance_strength(raw)
        self.poll()

    def reset(self) -> None:
        self.job = None
        self.result = None
        self.view = None
        self._importance = None
        self.importance_problem = None

    def poll(self) -> None:
        """Collect the job's result and the importance (cheap; called every tick)."""
        job = self.job
        if job is None:
            return
        if self.result is None and job.result is not None:
            self.result = job.result
        result = self.result
        if result is not None and result.importance is None and self._importance is not None:
            self.result = dataclasses.replace(result, importance=self._importance)

    @property
    def busy(self) -> bool:
        """Something is still to come: the pictures, or the importance."""
        if self.job is None:
            return False
        waiting = self._importance is None and self.importance_problem is None
        return not self.job.done or (waiting and self.job.error is None)

    @property
    def explainer(self) -> LiveExplainer | None:
        return self.result.explainer if self.result is not None else None

    @property
    def importance_ready(self) -> bool:
        return self.result is not None and self.result.importance is not None

    def show(self, view: str) -> None:
        if view not in ExploreView.ALL:
            raise ValueError(f"{view!r} is not an explore page")
        self.view = view

    def close(self) -> None:
        self.view = None
