"""Fixtures: a session on a fake clock with a stepped pretend micro:bit (see ``journey.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.session.journey import Journey


@pytest.fixture
def journey(tmp_path: Path):
    j = Journey(tmp_path)
    yield j
    j.session.learning.close()  # no training process outlives its test
    j.store.close()


@pytest.fixture
def make_journey(tmp_path: Path):
    made: list[Journey] = []

    def make(**settings) -> Journey:
        j = Journey(tmp_path / f"j{len(made)}", **settings)
        made.append(j)
        return j

    yield make
    for j in made:
        j.session.learning.close()
        j.store.close()
