"""open_link picks USB, then Bluetooth, then a clearly labelled simulated board."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import LinkError
from kiosk.microbit import factory
from kiosk.microbit.serial_link import SerialLink


@pytest.fixture
def no_usb(monkeypatch):
    monkeypatch.setattr(factory, "find_serial_boards", lambda: [])


@pytest.fixture
def usb(monkeypatch):
    monkeypatch.setattr(factory, "find_serial_boards", lambda: ["/dev/ttyACM0"])


def test_usb_board_present_follows_the_port_list(monkeypatch) -> None:
    monkeypatch.setattr(factory, "find_serial_boards", lambda: [])
    assert factory.usb_board_present() is False
    monkeypatch.setattr(factory, "find_serial_boards", lambda: ["/dev/ttyACM0"])
    assert factory.usb_board_present() is True

    def broken() -> list[str]:
        raise OSError("sysfs unreadable")

    monkeypatch.setattr(factory, "find_serial_boards", broken)
    assert factory.usb_board_present() is False


def test_auto_prefers_a_usb_board(usb, monkeypatch) -> None:
    monkeypatch.setattr(factory, "bluetooth_available", lambda: True)
    link = factory.open_link("auto", pattern="31524", remote_id="77")
    assert isinstance(link, SerialLink)
    assert link.port == "auto" and link.remote_id == 77
    assert not link.simulated


def test_auto_with_a_configured_port_uses_it(no_usb) -> None:
    link = factory.open_link("auto", serial_port="/dev/ttyACM3")
    assert isinstance(link, SerialLink) and link.port == "/dev/ttyACM3"


def test_auto_uses_bluetooth_when_a_pattern_and_an_adapter_exist(no_usb, monkeypatch) -> None:
    monkeypatch.setattr(factory, "bluetooth_available", lambda: True)
    link = factory.open_link("auto", pattern="31524")
    assert link.kind == "Bluetooth"
    assert link.board_name == "gutop"


def test_auto_falls_back_to_a_labelled_simulated_board(no_usb, monkeypatch, caplog) -> None:
    monkeypatch.setattr(factory, "bluetooth_available", lambda: False)
    link = factory.open_link("auto", pattern="31524")
    assert link.simulated and link.kind == "Simulated"
    assert "simulated" in caplog.text.lower()
    assert factory.open_link("auto").simulated


def test_explicit_kinds(no_usb) -> None:
    assert factory.open_link("simulated", gesture="shake").simulated
    assert isinstance(factory.open_link("serial"), SerialLink)
    assert factory.open_link("BLE", pattern=[3, 1, 5, 2, 4]).kind == "Bluetooth"


@pytest.mark.parametrize(("kind", "pattern"), [("ble", None), ("ble", " "), ("wifi", None)])
def test_impossible_choices_raise_link_error(kind, pattern) -> None:
    with pytest.raises(LinkError):
        factory.open_link(kind, pattern=pattern)


def test_bluetooth_available_needs_an_adapter(tmp_path: Path) -> None:
    assert factory.bluetooth_available(tmp_path / "missing") is False
    (tmp_path / "hci0").mkdir()
    expected = factory.importlib.util.find_spec("bluepy") is not None
    assert factory.bluetooth_available(tmp_path) is expected
