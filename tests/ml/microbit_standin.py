"""A stand-in for MicroPython's ``microbit`` module, so a generated ``main.py`` runs under CPython.

Only what the kiosk's model program uses: ``accelerometer.get_values`` (milli-g,
fed from given readings), ``display.show`` / ``clear`` (recorded), ``Image``
(keeps its string), ``sleep`` (advances a pretend clock by whole milliseconds
and runs the ``run_every`` callbacks that fall due, as the V2 runtime's
scheduler does between bytecodes) and ``running_time``. When the readings run
out, the next read raises ``EndOfReadings``, which ends the program's loop.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class EndOfReadings(Exception):
    """No reading left: the run is over."""


class Image:
    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Image({self.text!r})"


@dataclass
class _Timer:
    callback: Callable[[], Any]
    period_ms: int
    due_ms: int


@dataclass
class StandInBoard:
    """The pretend board: its clock, its readings and what its display showed."""

    readings: Iterator[tuple[int, int, int]]
    now_ms: int = 0
    reads: int = 0
    shown: list[str | None] = field(default_factory=list)  # Image text, None for clear
    printed: list[str] = field(default_factory=list)
    with_run_every: bool = True
    _timers: list[_Timer] = field(default_factory=list)

    def get_values(self) -> tuple[int, int, int]:
        try:
            value = next(self.readings)
        except StopIteration:
            raise EndOfReadings from None
        self.reads += 1
        return value

    def sleep(self, ms: float) -> None:
        for _ in range(max(int(ms), 0)):
            self.now_ms += 1
            for timer in self._timers:
                if self.now_ms >= timer.due_ms:
                    timer.due_ms += timer.period_ms
                    timer.callback()

    def run_every(self, callback: Callable[[], Any], ms: int) -> None:
        self._timers.append(_Timer(callback, ms, self.now_ms + ms))

    def module(self) -> types.ModuleType:
        board = self
        module = types.ModuleType("microbit")
        module.Image = Image  # type: ignore[attr-defined]
        module.accelerometer = types.SimpleNamespace(get_values=board.get_values)  # type: ignore[attr-defined]
        module.display = types.SimpleNamespace(  # type: ignore[attr-defined]
            show=lambda image: board.shown.append(image.text),
            clear=lambda: board.shown.append(None),
        )
        module.sleep = board.sleep  # type: ignore[attr-defined]
        module.running_time = lambda: board.now_ms  # type: ignore[attr-defined]
        if self.with_run_every:
            module.run_every = board.run_every  # type: ignore[attr-defined]
        return module


def milli_g(samples: Sequence[Sequence[float]]) -> list[tuple[int, int, int]]:
    """Readings in g as the board's accelerometer gives them: whole milli-g."""
    return [(round(x * 1000), round(y * 1000), round(z * 1000)) for x, y, z in samples]


def load_program(path: Path, board: StandInBoard) -> types.ModuleType:
    """Import ``path`` (not as ``__main__``, so its loop does not start) against ``board``."""
    saved = sys.modules.get("microbit")
    sys.modules["microbit"] = board.module()
    try:
        spec = importlib.util.spec_from_file_location("microbit_main_under_test", path)
        assert spec is not None and spec.loader is not None
        program = importlib.util.module_from_spec(spec)
        program.print = board.printed.append  # type: ignore[attr-defined]
        spec.loader.exec_module(program)
    finally:
        if saved is None:
            sys.modules.pop("microbit", None)
        else:
            sys.modules["microbit"] = saved
    return program
