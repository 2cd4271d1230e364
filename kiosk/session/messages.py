"""What the session asks the screen to say and play: one banner at a time, and sound cues.

The session never draws or plays anything itself; it leaves a ``Message``
(text, tone, until when) and a queue of ``Cue`` values here, and the UI reads
the banner and drains the cues each frame.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

MESSAGE_S = 4.0  # how long a banner stays up


class Tone(enum.StrEnum):
    """How a banner looks: plain news, good news, or a problem."""

    INFO = "info"
    GOOD = "good"
    PROBLEM = "problem"


class Cue(enum.StrEnum):
    """A sound the UI plays once (see ``kiosk.ui.sound``)."""

    COUNT = "count"  # a recording's 3-2-1 starts
    DONE = "done"  # a recording was kept
    GOOD = "good"  # connected
    PROBLEM = "problem"  # something went wrong
    TRAINED = "trained"  # the model is ready
    RECOGNISED = "recognised"  # the live test recognised a move


@dataclass(frozen=True)
class Message:
    text: str
    kind: Tone
    until: float


@dataclass
class Messages:
    """The banner on screen and the cues not yet played; owns both and their reset."""

    message: Message | None = None
    cues: list[Cue] = field(default_factory=list)

    def say(self, text: str, kind: Tone, now: float) -> None:
        self.message = Message(text, kind, now + MESSAGE_S)
        if kind is Tone.PROBLEM:
            self.cues.append(Cue.PROBLEM)

    def cue(self, cue: Cue) -> None:
        self.cues.append(cue)

    def drain_cues(self) -> list[Cue]:
        cues, self.cues = self.cues, []
        return cues

    def drop_good_news(self) -> None:
        """Forget a cheerful banner that a new problem would contradict."""
        if self.message is not None and self.message.kind is Tone.GOOD:
            self.message = None

    def expire(self, now: float) -> None:
        if self.message is not None and now >= self.message.until:
            self.message = None

    def reset(self) -> None:
        self.message = None
        self.cues = []
