"""The visitor's journey as a headless state machine (no pygame): see ``session.py``."""

from kiosk.session.screens import Screen

__all__ = ["Screen"]
