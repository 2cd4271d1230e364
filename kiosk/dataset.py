"""The kiosk's data in memory: actions, their recordings, and a dataset of them.

Plain, immutable values shared by the store, the ML core and the session. A
recording keeps its samples as an ``(n, 3)`` float64 array of x, y, z in g, so
numbers read from a CreateAI file are written back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class Recording:
    """One recorded gesture: accelerometer samples in g, oldest first."""

    samples: np.ndarray  # (n, 3) float64: columns x, y, z
    id: str = ""
    created_at: int | None = None  # ms since the epoch, as CreateAI writes it
    sample_period_ms: float | None = None  # the device period the board was asked for
    arrival_rate_hz: float | None = None  # the rate samples actually arrived at

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float64)
        if samples.ndim != 2 or samples.shape[1] != 3:
            raise ValueError(f"samples must have shape (n, 3), not {samples.shape}")
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)

    @property
    def length(self) -> int:
        return int(self.samples.shape[0])


@dataclass(frozen=True)
class Action:
    """Something the visitor does with the micro:bit, and its example recordings."""

    name: str
    recordings: tuple[Recording, ...] = ()
    icon: str | None = None
    id: str = ""
    created_at: int | None = None
    threshold: float = 0.8  # CreateAI's default recognition threshold
    # Fields of an imported file the kiosk does not use (e.g. CreateAI's
    # "output", "matrix"), kept so that an export gives them back.
    extra: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Dataset:
    """An ordered list of actions; action order is class order everywhere."""

    actions: tuple[Action, ...] = field(default_factory=tuple)

    @property
    def class_names(self) -> list[str]:
        return [action.name for action in self.actions]

    @property
    def n_recordings(self) -> int:
        return sum(len(action.recordings) for action in self.actions)

    def labelled_recordings(self) -> list[tuple[int, int, Recording]]:
        """(action index, recording index, recording) for every recording, in file order."""
        return [
            (a, r, recording)
            for a, action in enumerate(self.actions)
            for r, recording in enumerate(action.recordings)
        ]

    def sample_arrays(self) -> list[np.ndarray]:
        return [recording.samples for _, _, recording in self.labelled_recordings()]

    def labels(self) -> np.ndarray:
        return np.array([a for a, _, _ in self.labelled_recordings()], dtype=np.int64)

    @staticmethod
    def from_actions(actions: Sequence[Action]) -> Dataset:
        return Dataset(tuple(actions))
