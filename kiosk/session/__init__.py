"""The visitor's journey as a headless state machine (no pygame): see ``session.py``."""

from kiosk.session.screens import Screen
from kiosk.session.settings import SessionSettings

__all__ = ["Screen", "SessionSettings"]
