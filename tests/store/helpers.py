"""Small builders shared by the store tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.dataset import Recording


def samples_for(index: int) -> np.ndarray:
    """Deterministic, distinct samples for recording number ``index`` (20..59 rows)."""
    n = 20 + index % 40
    base = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    return np.sin(base * 0.37 + index) * 2.0 + index * 1e-9


def recording(index: int, **fields: Any) -> Recording:
    return Recording(samples=samples_for(index), **fields)


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def action_doc(name: str, n_recordings: int = 2, n_samples: int = 5, legacy: bool = False) -> dict:
    key = "ID" if legacy else "id"
    return {
        key: 1700000000000 + len(name) if legacy else f"a-{name}",
        "name": name,
        "recordings": [
            {
                key: 1700000000100 + r if legacy else f"r-{name}-{r}",
                "data": {
                    axis: [round(0.01 * (r + 1) * (i + 1) * (k + 1), 3) for i in range(n_samples)]
                    for k, axis in enumerate("xyz")
                },
            }
            for r in range(n_recordings)
        ],
    }


def as_exported(original: list[dict]) -> list[dict]:
    """A CreateAI document as the kiosk writes it back: what CreateAI needs is added.

    Each action gets an icon CreateAI knows (CreateAI's own choice where it has
    none) and each action and recording a ``createdAt`` (its numeric ``ID``,
    as CreateAI's upgrade of legacy files takes it); everything else is as it was.
    """
    from kiosk.microbit.icons import resolve_icons

    icons = resolve_icons([action.get("icon") for action in original])
    out = []
    for action, icon in zip(original, icons, strict=True):
        recordings = [
            {**rec, "createdAt": rec.get("createdAt", rec.get("ID"))}
            for rec in action["recordings"]
        ]
        created = action.get("createdAt", action.get("ID"))
        out.append({**action, "icon": icon, "createdAt": created, "recordings": recordings})
    return out
