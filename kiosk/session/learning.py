"""Training, the live test and its explanations: one owner for the model and what reads it.

``Learning`` holds the training job, the trained result (and which version of
the recordings it was trained on), the live tester and its prediction thread,
the "Why?" panel's state and the explore pictures. Its ``reset`` forgets the
model and stops every thread it started.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from kiosk.i18n import _
from kiosk.ml.smoothing import SmoothedSaliency
from kiosk.ml.windows import DataWindow
from kiosk.session.explore import Explorer, WhyView
from kiosk.session.live import LiveTester
from kiosk.session.training import TrainingJob, TrainingResult

if TYPE_CHECKING:
    from kiosk.ml.explain import LiveExplainer, LiveExplanation


class Learning:
    def __init__(self, window: DataWindow) -> None:
        self.window = window
        self.training: TrainingJob | None = None
        self.trained: TrainingResult | None = None
        self.trained_version = -1  # the recordings' version the model was trained on
        self.training_error: str | None = None
        self.tester: LiveTester | None = None
        self.showing_why = False
        self.why_view = WhyView.SQUARES
        self.explainer: LiveExplainer | None = None  # built when first asked "why?"
        self.explanation: LiveExplanation | None = None  # of the newest live sample
        self.explore = Explorer()  # pictures of what the model learned, built after training
        self._explained_sequence = -1
        self.smoother = SmoothedSaliency()  # the "Why?" squares, steady while the answer is
        self.raw_saliency: np.ndarray | None = None  # the newest sample's own, unsmoothed

    def is_stale(self, data_version: int) -> bool:
        """True when the recordings changed since the model was trained."""
        return self.trained is not None and self.trained_version != data_version

    def start_training(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        names: tuple[str, ...],
        data_version: int,
    ) -> None:
        self.training_error = None
        self.explore.reset()  # the pictures of the old model no longer apply
        self.training = TrainingJob(samples, labels, names, self.window).start()
        self.trained_version = data_version
        self.drop_tester()  # the new model replaces the old one

    def collect_training(self) -> TrainingResult | None:
        """The finished job's result (also kept as ``trained``); None while running or failed."""
        job = self.training
        if job is None or not job.done:
            return None
        self.training = None
        if job.result is None:
            self.training_error = job.error or _("Learning failed. Please try again.")
            return None
        self.trained = job.result
        self.explainer = self.explanation = None
        self.explore.start(job.result, self.window)  # map, importance, averages: off this thread
        return job.result

    @property
    def training_failed(self) -> bool:
        return self.training is None and self.training_error is not None

    def start_testing(self, threaded: bool) -> bool:
        if self.trained is None:
            return False
        self.drop_tester()
        # The one classifier made after training runs here and on the prediction thread.
        self.tester = LiveTester(self.trained.classifier, self.window, threaded=threaded)
        return True

    def drop_tester(self) -> None:
        """Forget the live tester, stopping its prediction thread (bounded join)."""
        tester, self.tester = self.tester, None
        if tester is not None:
            tester.stop()

    def toggle_why(self) -> None:
        self.showing_why = not self.showing_why
        self.explainer = self.explainer or self.explore.explainer
        if self.showing_why and self.explainer is None and self.trained is not None:
            from kiosk.ml.explain import LiveExplainer

            result = self.trained
            self.explainer = LiveExplainer(
                result.model,
                result.features,
                result.labels,
                result.fingerprints,
                predicted=result.evaluation.predicted,
            )

    def explain_latest(self) -> None:
        """Explain the newest live prediction, once per prediction, while "Why?" is open."""
        tester, explainer = self.tester, self.explainer
        if not self.showing_why or tester is None or explainer is None:
            return
        latest = tester.latest
        if latest is not None and (
            self.explanation is None or self._explained_sequence != latest.sequence
        ):
            from kiosk.ml.explain import display_strength  # loaded with the explainer

            self._explained_sequence = latest.sequence
            raw = explainer.explain(latest.features)
            # What is drawn is the model's own saliency, averaged over the answers that
            # agree, so the squares change when the reasons do, not with every sample.
            steady = self.smoother.update(raw.target, raw.saliency)
            self.raw_saliency = raw.saliency
            self.explanation = dataclasses.replace(
                raw, saliency=steady, strength=display_strength(steady)
            )

    def pause_testing(self) -> None:
        """Off the test screen (admin, pairing again): no live guesses."""
        if self.tester is not None and self.tester.running:
            self.tester.pause()

    def reset(self) -> None:
        job, self.training = self.training, None
        if job is not None:
            job.stop()
        self.trained = None
        self.trained_version = -1
        self.drop_tester()
        self.training_error = None
        self.showing_why = False
        self.why_view = WhyView.SQUARES
        self.explore.reset()
        self.explainer = self.explanation = None
        self._explained_sequence = -1
        self.smoother.reset()
        self.raw_saliency = None
