"""The hardware edge: one ``Link`` interface and its backends (BLE, USB serial, simulated)."""

from kiosk.microbit.link import ButtonEvent, Link, LinkEvent, LinkState, StateChange

__all__ = ["ButtonEvent", "Link", "LinkEvent", "LinkState", "StateChange"]
