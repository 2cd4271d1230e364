"""The pairing pattern codebook: every pattern names one board, and back."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.errors import KioskError
from kiosk.microbit.pattern import (
    PatternError,
    name_to_pattern,
    parse_columns,
    pattern_to_icon,
    pattern_to_name,
)


def test_all_3125_patterns_round_trip_to_distinct_names() -> None:
    names = set()
    for pattern in itertools.product(range(1, 6), repeat=5):
        name = pattern_to_name(pattern)
        assert name_to_pattern(name) == list(pattern)
        names.add(name)
    assert len(names) == 3125


def test_the_published_codebook() -> None:
    # column 0/2/4: z v g p t; column 1/3: u o i e a (one to five lit LEDs)
    assert pattern_to_name([1, 1, 1, 1, 1]) == "zuzuz"
    assert pattern_to_name([5, 5, 5, 5, 5]) == "tatat"
    assert pattern_to_name([3, 1, 5, 2, 4]) == "gutop"
    assert name_to_pattern("VOGIP") == [2, 2, 3, 3, 4]
    assert pattern_to_name(np.array([2, 4, 3, 3, 1])) == "vegiz"


@pytest.mark.parametrize("text", ["31524", "3 1 5 2 4", "3,1,5,2,4", " 3-1-5-2-4 "])
def test_parse_columns_accepts_digits_with_separators(text: str) -> None:
    assert parse_columns(text) == [3, 1, 5, 2, 4]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("3152", "5 digits"),
        ("315244", "5 digits"),
        ("31a24", "5 digits"),
        ("", "5 digits"),
        ("31624", "Column 3"),
        ("01524", "Column 1"),
    ],
)
def test_parse_columns_explains_what_is_wrong(text: str, hint: str) -> None:
    with pytest.raises(PatternError, match=hint) as caught:
        parse_columns(text)
    assert isinstance(caught.value, KioskError) and isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("gutopz", "5 letters"), ("gut", "5 letters"), ("aaaaa", "Letter 1"), ("gztop", "Letter 2")],
)
def test_bad_names_are_refused(name: str, hint: str) -> None:
    with pytest.raises(PatternError, match=hint):
        name_to_pattern(name)


@pytest.mark.parametrize(
    "pattern",
    [[1, 2, 3, 4], [1, 2, 3, 4, 6], [0, 1, 1, 1, 1], [True, 1, 1, 1, 1], [1.5, 1, 1, 1, 1]],
)
def test_bad_patterns_are_refused(pattern: list) -> None:
    with pytest.raises(PatternError):
        pattern_to_name(pattern)


@given(st.lists(st.integers(1, 5), min_size=5, max_size=5))
def test_icon_lights_the_bottom_k_leds_of_each_column(pattern: list[int]) -> None:
    icon = pattern_to_icon(pattern)
    assert len(icon) == 5 and all(len(row) == 5 for row in icon)
    for column, height in enumerate(pattern):
        lit = [icon[row][column] for row in range(5)]
        assert lit == [False] * (5 - height) + [True] * height
