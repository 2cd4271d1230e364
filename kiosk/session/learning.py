"""Training, the live test and its explanations: one owner for the model and what reads it.

``Learning`` holds the warm training process, the training job, the trained
result (and which version of the recordings it was trained on), the live
tester and its prediction thread, the "Why?" panel's state, the explore
pictures and, in teacher mode, the class's choice of model (``choice``:
``kiosk.session.model_choice``). Its ``reset`` forgets the model and the
choice and stops every thread and process it started.

What the job sends arrives in parts, and ``collect_training`` (every tick)
hands on what arrived as ``Learned`` news: first the model (``training`` becomes None
and the visitor can test), then the honest score (the explore pictures start,
the model is worth saving), then the importance.
"""

from __future__ import annotations

import dataclasses
import enum
import weakref
from typing import TYPE_CHECKING

import numpy as np

from kiosk.i18n import _
from kiosk.ml.smoothing import SmoothedSaliency
from kiosk.ml.windows import DataWindow
from kiosk.session.explore import Explorer, WhyView
from kiosk.session.live import LiveTester
from kiosk.session.model_choice import NETWORK, ModelChoice
from kiosk.session.training import SpareWorker, TrainingJob, TrainingResult

if TYPE_CHECKING:
    from kiosk.ml.explain import LiveExplainer, LiveExplanation


class Learned(enum.Enum):
    """What ``Learning.collect_training`` has to say since it was last asked."""

    MODEL = "model"  # the model is here: the visitor can test
    SCORE = "score"  # the honest score is here (or it is known it will not come)
    FAILED = "failed"  # no model: ``training_error`` says why


class Learning:
    def __init__(self, window: DataWindow) -> None:
        self.window = window
        self.workers = SpareWorker()  # the training process, warmed while the visitor records
        # Idle training processes go with their owner, even one nobody reset.
        weakref.finalize(self, self.workers.stop)
        self._want_worker = False
        self._told_score = self._told_importance = False
        self.training: TrainingJob | None = None  # until its model is here
        self.streaming: TrainingJob | None = None  # the same job, until everything is here
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
        self.choice = ModelChoice()  # teacher mode: network or nearest neighbours, both scores

    def is_stale(self, data_version: int) -> bool:
        """True when the recordings changed since the model was trained."""
        return self.trained is not None and self.trained_version != data_version

    def prepare(self) -> None:
        """The visitor is recording: have a training process warm by the time they press Train.

        Started at the next tick when no training process is busy (one at a time
        keeps the memory bounded).
        """
        self._want_worker = True

    def start_training(
        self,
        samples: list[np.ndarray],
        labels: np.ndarray,
        names: tuple[str, ...],
        data_version: int,
        kind: str = NETWORK,
    ) -> None:
        self.training_error = None
        self.explore.reset()  # the pictures of the old model no longer apply
        self._stop_job()  # one training at a time; its process goes before the next starts
        job = TrainingJob(samples, labels, names, self.window, workers=self.workers, kind=kind)
        self.training = self.streaming = job.start()
        self.trained_version = data_version
        self.drop_tester()  # the new model replaces the old one

    def collect_training(self) -> list[Learned]:
        """What arrived from the job since the last call, in order (cheap; called every tick).

        The model (also kept as ``trained``), then the score; or that the job
        failed before its model.
        """
        job = self.streaming
        if job is None:
            if self._want_worker:
                self._want_worker = False
                self.workers.prepare()
            return []
        news = []
        if self.training is job:
            if job.model_ready and job.result is not None:
                self.training = None
                self._told_score = self._told_importance = False
                self._forget_explanations()
                news.append(Learned.MODEL)
            elif job.done:
                self.training = self.streaming = None
                self.training_error = job.error or _("Learning failed. Please try again.")
                return [Learned.FAILED]
            else:
                return []
        done = job.done  # read first: once done, every part is in ``result``
        if job.result is not None:
            self.trained = job.result  # the same model, with more known about it as parts arrive
        trained = self.trained
        if trained is not None and trained.scored and not self._told_score:
            self._told_score = True
            self.choice.remember(trained, self.trained_version)
            news.append(Learned.SCORE)
            # Map, averages, live explainer: off this thread, now the mistakes are known.
            self.explore.start(trained, self.window)
        if (
            trained is not None
            and self._told_score
            and not self._told_importance
            and (trained.importance is not None or trained.importance_problem is not None)
        ):
            self._told_importance = True
            self.choice.remember(trained, self.trained_version)  # kept with its importance
            self.explore.add_importance(trained.importance, trained.importance_problem)
        if done:
            self.streaming = None
        return news

    def use_trained(self, result: TrainingResult, data_version: int) -> None:
        """Make an already trained model (the other kind, kept by ``choice``) the current one.

        Only between trainings (``streaming`` is None): a job still sending its
        score would otherwise put its own model back.
        """
        self.drop_tester()
        self.training_error = None
        self.trained_version = data_version
        self.trained = result
        self._forget_explanations()
        self._told_score = True
        self._told_importance = (
            result.importance is not None or result.importance_problem is not None
        )
        self.explore.start(result, self.window)  # map, averages: off this thread
        if self._told_importance:
            self.explore.add_importance(result.importance, result.importance_problem)

    def _forget_explanations(self) -> None:
        """A different model: the old one's explainer and its reasons no longer apply."""
        self.explainer = self.explanation = None
        self._explained_sequence = -1
        self.smoother.reset()
        self.raw_saliency = None

    @property
    def training_failed(self) -> bool:
        return self.training is None and self.training_error is not None

    @property
    def scoring(self) -> bool:
        """The model is here and the honest score is still on its way."""
        return self.trained is not None and not self.trained.scored

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
                predicted=result.evaluation.predicted if result.evaluation else None,
            )

    def explain_latest(self) -> None:
        """Explain the newest live prediction, once per prediction, while "Why?" is open."""
        # A new model (trained again, or the other kind chosen) while "Why?" stayed open:
        # its explainer comes from the explore pictures' thread once they are ready.
        self.explainer = self.explainer or self.explore.explainer
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

    def _stop_job(self) -> None:
        job = self.streaming
        self.training = self.streaming = None
        if job is not None:
            job.stop()

    def close(self) -> None:
        """Stop every thread and process (the app is closing)."""
        self.reset()

    def reset(self) -> None:
        self._stop_job()
        self._want_worker = False
        self._told_score = self._told_importance = False
        self.workers.stop()  # the next visitor's recordings start a fresh one
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
        self.choice.reset()
