"""Property-based fuzzing of the CreateAI reader: no input makes it crash.

``parse_createai`` must either return a dataset or raise ``DatasetFormatError``
(one line); nothing else may escape. A returned dataset must be sound (finite
(n, 3) samples, at least one sample per recording, distinct action names) and
must survive a write-and-read-back unchanged (bar what CreateAI needs added:
``createdAt``, icons it knows, numeric legacy IDs), the written file must pass
CreateAI's rules (``tests/store/test_createai_rules.py``), and writing it again
must give the same text. Inputs: raw bytes, arbitrary
JSON-like values, and valid CreateAI documents with hostile edits (a value
replaced, a key deleted, an entry duplicated, bytes cut or flipped), all in
one test of 10,000 cases.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError
from kiosk.store.createai_json import dump_createai, parse_createai
from tests.store.test_createai_rules import createai_problems

KEYS = ["ID", "id", "name", "icon", "createdAt", "recordings", "data", "x", "y", "z"]
KEYS += ["requiredConfidence", "confidence"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=4),
    ),
    max_leaves=8,
)

# Values that have broken JSON readers before: non-finite and overflowing
# numbers, big integers, lone surrogates, long and empty texts, wrong types.
HOSTILE: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    10**300,
    -(10**300),
    2**53,
    1e308,
    5e-324,
    -0.0,
    1001.0,
    "",
    " ",
    "1",
    "\ud800",
    "x" * 101,
    "é",
    [],
    {},
    [[[[[[[[]]]]]]]],
    {"x": [], "y": [], "z": []},
    {"x": [1], "y": [1, 2], "z": [1]},
]


def _valid_document(rng: random.Random) -> list[dict[str, Any]]:
    key = rng.choice(["ID", "id"])
    actions = []
    for a in range(rng.randint(1, 3)):
        recordings = []
        for r in range(rng.randint(0, 3)):
            n = rng.randint(1, 5)
            data = {axis: [round(rng.uniform(-2, 2), 3) for _ in range(n)] for axis in "xyz"}
            recordings.append({key: rng.choice([1700 + r, f"r{r}"]), "data": data})
        action: dict[str, Any] = {key: rng.choice([a, f"a{a}"]), "name": f"action {a}"}
        action["recordings"] = recordings
        if rng.random() < 0.3:
            action["icon"] = "Heart"
        if rng.random() < 0.3:
            action["createdAt"] = 1718000000000 + a
        if rng.random() < 0.2:
            action["requiredConfidence"] = rng.choice([0, 0.5, 1])
        if rng.random() < 0.2:
            action["confidence"] = {"requiredConfidence": 0.7, "currentConfidence": 0}
        actions.append(action)
    return actions


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in a document, to mutate one at random."""
    found: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current)
        for slot, value in items:
            found.append((current, slot))
            if isinstance(value, dict | list):
                stack.append(value)
    return found


def mutated_document(seed: int) -> bytes:
    """A valid CreateAI document, then 0-3 hostile edits, as bytes (maybe cut or flipped)."""
    rng = random.Random(seed)
    document = _valid_document(rng)
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        container, slot = rng.choice(_slots(document))
        edit = rng.random()
        if edit < 0.6:
            container[slot] = copy.deepcopy(rng.choice(HOSTILE))
        elif edit < 0.8 and isinstance(container, dict):
            del container[slot]
        elif isinstance(container, list):
            container.append(container[slot])  # duplicates: names, ids, recordings
        else:
            container[rng.choice(KEYS)] = copy.deepcopy(rng.choice(HOSTILE))
    raw = json.dumps(document, allow_nan=True).encode()  # NaN/Infinity literals on purpose
    if rng.random() < 0.1:
        raw = raw[: rng.randrange(len(raw))]
    if raw and rng.random() < 0.1:  # (a cut may have left nothing to flip)
        position = rng.randrange(len(raw))
        raw = raw[:position] + bytes([rng.randrange(256)]) + raw[position + 1 :]
    return raw


def _encode(value: Any) -> bytes:
    # allow_nan: the reader must refuse NaN/Infinity literals itself
    return json.dumps(value, allow_nan=True).encode()


# One test, three kinds of input. Hypothesis draws the mutator's seed, so a
# near-valid case costs one integer draw (its composite strategies cost 40 ms
# a case, too slow for 10,000 in CI).
seeds = st.integers(min_value=0, max_value=2**32)
inputs = st.one_of(
    st.binary(max_size=300),
    json_like.map(_encode),
    seeds.map(mutated_document),
    seeds.map(mutated_document),
    seeds.map(mutated_document),
    seeds.map(mutated_document),
)

CASES = 10_000
_seen = {"cases": 0, "accepted": 0}
NOW_MS = 1_800_000_000_000  # the export's time, fixed so that a second export is comparable


def _check_sound(dataset: Dataset) -> None:
    names = dataset.class_names
    assert len(set(names)) == len(names)
    for _, _, recording in dataset.labelled_recordings():
        assert recording.samples.ndim == 2 and recording.samples.shape[1] == 3
        assert recording.samples.shape[0] >= 1
        assert np.isfinite(recording.samples).all()
    for action in dataset.actions:
        assert 0.0 <= action.threshold <= 1.0


@pytest.mark.slow
@settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(raw=inputs)
def test_parser_never_crashes(raw: bytes) -> None:
    _seen["cases"] += 1
    try:
        dataset, form = parse_createai(raw, source="fuzz.json")
    except DatasetFormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    _seen["accepted"] += 1
    _check_sound(dataset)
    text = dump_createai(dataset, form, now_ms=NOW_MS)
    assert createai_problems(json.loads(text)) == []
    again, again_form = parse_createai(text.encode())
    assert again_form == form
    assert _same(dataset, again, form)
    assert dump_createai(again, again_form, now_ms=NOW_MS) == text


def _same(a: Dataset, b: Dataset, form: str) -> bool:
    """``b`` (written and read back) holds ``a``'s data: arrays compared by value.

    What the writer adds for CreateAI may differ: a ``createdAt`` where ``a``
    had none, and in the legacy form a number for an ID that was not one.
    """

    def kept(old_id: str, new_id: str, old_time: int | None, new_time: int | None) -> bool:
        same_id = old_id == new_id or form == "legacy"
        return same_id and (old_time is None or old_time == new_time) and new_time is not None

    if len(a.actions) != len(b.actions):
        return False
    for x, y in zip(a.actions, b.actions, strict=True):
        if (x.name, x.icon, x.threshold, dict(x.extra)) != (
            y.name,
            y.icon,
            y.threshold,
            dict(y.extra),
        ):
            return False
        if not kept(x.id, y.id, x.created_at, y.created_at):
            return False
        for r, s in zip(x.recordings, y.recordings, strict=True):
            if not kept(r.id, s.id, r.created_at, s.created_at):
                return False
            if r.samples.tobytes() != s.samples.tobytes():
                return False
    return True


@pytest.mark.slow
def test_fuzz_ran_every_case() -> None:
    """Runs after the fuzz test (file order) and reports what it covered."""
    if _seen["cases"] == 0:
        pytest.skip("the fuzz test was not run in this session")
    print(
        f"\nfuzz: {_seen['cases']} cases, {_seen['accepted']} parsed as datasets, "
        "each written back and held to CreateAI's rules"
    )
    assert _seen["cases"] >= CASES
    assert _seen["accepted"] > 0  # the near-valid strategy does reach the happy path
