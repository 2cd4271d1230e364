"""The record screen's state: which move is picked, the recorder, and the recording looked at.

``Collecting`` owns these and their reset; the recordings themselves live in
``VisitorData`` (the store), which the session wipes or keeps by its own rule.
"""

from __future__ import annotations

from kiosk.ml.windows import DataWindow
from kiosk.session.recorder import Recorder
from kiosk.settings import Settings


class Collecting:
    def __init__(self, settings: Settings, window: DataWindow) -> None:
        self.recorder = Recorder(
            settings.countdown_s,
            settings.record_s,
            settings.gap_s,
            window.min_samples,
            window.device_period_ms,
        )
        self.selected_action = 0
        self.viewing_recording: str | None = None  # the id of the recording shown large

    def reset(self) -> None:
        self.recorder.cancel()
        self.selected_action = 0
        self.viewing_recording = None
