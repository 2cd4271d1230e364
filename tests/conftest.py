"""Shared fixtures: where the real micro:bit CreateAI recordings live, and a loader for them.

The recordings are real data nobody on this project recorded (see
``../shared/data/createai/README.md``). Tests that need them skip with a clear
reason when the folder is absent, never silently pass.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.dataset import Dataset
from kiosk.store.createai_json import load_createai

REPO_ROOT = Path(__file__).resolve().parent.parent
CREATEAI_DIR = REPO_ROOT.parent / "shared" / "data" / "createai"
MISSING_REASON = "real micro:bit data folder ../shared/data/createai is absent"


@pytest.fixture(scope="session")
def createai_dir() -> Path:
    """The folder of real CreateAI recordings, reference features and folds."""
    if not CREATEAI_DIR.is_dir():
        pytest.skip(MISSING_REASON)
    return CREATEAI_DIR


@pytest.fixture(scope="session")
def load_real(createai_dir: Path) -> Callable[[str], Dataset]:
    """``load_real("dataset.json")`` -> the Dataset in that file of the real-data folder."""
    cache: dict[str, Dataset] = {}

    def load(name: str) -> Dataset:
        if name not in cache:
            path = createai_dir / name
            if not path.is_file():
                pytest.skip(f"{MISSING_REASON} (or lacks {name})")
            cache[name] = load_createai(path)[0]
        return cache[name]

    return load


@pytest.fixture(autouse=True)
def _private_data_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep every test away from the developer's own kiosk data and settings.

    The default database (and the admin screen's settings beside it) live in
    the user's data directory or the service's state directory; a test must
    never read a developer's leftovers there, nor write into them.
    """
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """The language on screen is the process's: no test leaves its language to the next."""
    yield
    from kiosk import i18n

    i18n.set_language(i18n.SOURCE_LANGUAGE)
