"""What the model learned, prepared off the UI thread once training finishes.

After training, the train screen offers "Explore": a map of every recording
(coloured by move, the ones the honest test got wrong marked), which squares
each move needs (permutation importance on the cross-validation folds, which
trains extra models) and the average fingerprint of each move. The test
screen's "Why?" panel uses the same live explainer (saliency, similar
recordings, the live point on the map). All of it is computed here on a worker
thread; the screens only draw what ``ExploreResult`` holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kiosk.errors import KioskError
from kiosk.i18n import N_
from kiosk.ml.explain import LiveExplainer, MapPicture, global_importance, importance_strength
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
    """Builds the live explainer, then the global importance, on its own thread."""

    name = "explore"
    # The score screen still works without the pictures.
    failure = N_("Could not prepare the pictures ({error}).")

    def __init__(self, trained, window: DataWindow, importance: Callable | None = None) -> None:
        super().__init__()
        self._trained = trained  # kiosk.session.training.TrainingResult
        self._window = window
        self._importance = importance or global_importance
        self.explainer_ready: ExploreResult | None = None  # set as soon as the explainer exists
        self.result: ExploreResult | None = None

    def _work(self) -> None:
        r = self._trained
        explainer = LiveExplainer(
            r.model, r.features, r.labels, r.fingerprints, predicted=r.evaluation.predicted
        )
        first = ExploreResult(
            explainer,
            tuple(r.classes),
            explainer.picture,
            explainer.averages,
            None,
        )
        self.explainer_ready = first
        strength = None
        try:
            raw = self._importance(r.features, r.labels, list(r.classes), self._window)
            strength = importance_strength(raw)
        except (KioskError, ValueError) as error:  # too few recordings for folds, say
            log.warning("global importance skipped: %s", error)
        self.result = ExploreResult(
            explainer, first.class_names, first.map_picture, first.averages, strength
        )


class Explorer:
    """The session's explore state: the job, its result, and which page is shown."""

    def __init__(self) -> None:
        self.job: ExploreJob | None = None
        self.result: ExploreResult | None = None
        self.view: str | None = None  # an ExploreView page while exploring, else None

    def start(self, trained, window: DataWindow) -> None:
        """Begin preparing the pictures for a freshly trained model (forgets the old ones)."""
        self.result = None
        # The training worker measures the importance too (scikit-learn stays out of this process).
        self.job = ExploreJob(trained, window, getattr(trained, "importance", None)).start()

    def reset(self) -> None:
        self.job = None
        self.result = None
        self.view = None

    def poll(self) -> None:
        """Collect the job's results (cheap; called every tick)."""
        job = self.job
        if job is None:
            return
        if self.result is None and job.explainer_ready is not None:
            self.result = job.explainer_ready
        if job.done and job.result is not None and self.result is not job.result:
            self.result = job.result
        # The finished job stays (until ``start`` or ``reset``): a caller holding on
        # to it may still wait on it, however soon the importance arrived.

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.done

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
