"""The screens of the visitor's journey, as plain names the session and the UI share."""

from __future__ import annotations

import enum


class Screen(enum.Enum):
    ATTRACT = "attract"
    PAIR = "pair"
    ACTIONS = "actions"
    RECORD = "record"
    TRAIN = "train"
    TEST = "test"
    ADMIN = "admin"
