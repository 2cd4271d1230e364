"""Prepare a micro:bit: the flash runs aside, the screen reads each step, a remote id is kept."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.microbit.link import LinkState
from kiosk.microbit.serial_protocol import BoardProgram
from kiosk.session.admin_settings import SettingsFile
from kiosk.session.board_prep import NO_ICONS_WORDS, BoardPrep, FlashOutcome, board_words
from kiosk.settings import Settings


class FakeFlash:
    """Stands in for copying to a drive: reports steps, waits until released, then answers."""

    def __init__(self, board_id: str = "305419896", error: str | None = None) -> None:
        self.release = threading.Event()
        self.roles: list[str] = []
        self.board_id, self.error = board_id, error

    def __call__(self, role: str, progress) -> FlashOutcome:
        self.roles.append(role)
        progress("Copying kiosk-remote-v2.hex to the micro:bit…")
        self.release.wait(10)
        if self.error:
            raise KioskError(self.error)
        return FlashOutcome(f"the kiosk's program 1.0 ({role})", self.board_id)


def test_a_remote_is_flashed_and_its_id_becomes_the_kiosks_setting(tmp_path: Path) -> None:
    path = tmp_path / "admin-settings.toml"
    kept: list[Settings] = []

    def keep_remote_id(remote_id: str) -> str:  # what the session does with the id
        kept.append(Settings().changed("radio_remote_id", remote_id))
        return SettingsFile(path).save(kept[-1], "radio_remote_id").text

    fake = FakeFlash()
    prep = BoardPrep(keep_remote_id, fake)
    prep.show()
    assert prep.open and not prep.busy and "Plug the micro:bit" in prep.stage
    prep.start("remote")
    assert prep.busy and prep.role == "remote"
    prep.start("usb")  # one board at a time: ignored while busy
    fake.release.set()
    assert prep.wait(10)
    assert fake.roles == ["remote"]
    assert prep.outcome is not None and "Its id is 305419896" in prep.outcome
    assert [k.radio_remote_id for k in kept] == ["305419896"]
    assert path.is_file() and 'radio_remote_id = "305419896"' in path.read_text()


def test_a_failed_flash_says_why_and_the_page_can_try_again(tmp_path: Path) -> None:
    fake = FakeFlash(error="No MICROBIT drive found: plug the micro:bit in.")
    prep = BoardPrep(lambda _id: "", fake)
    prep.show()
    prep.start("usb")
    fake.release.set()
    assert prep.wait(10)
    assert prep.error is not None and "No MICROBIT drive" in prep.error
    assert prep.outcome is None and not prep.busy
    fake.error = None
    prep.start("usb")
    assert prep.wait(10)
    assert prep.error is None and prep.outcome is not None


def test_reset_forgets_what_was_shown() -> None:
    fake = FakeFlash()
    fake.release.set()
    prep = BoardPrep(lambda _id: "", fake)
    prep.show()
    prep.start("bridge")
    assert prep.wait(10)
    prep.reset()
    assert not prep.open and prep.outcome is None and prep.role is None


class _Link:
    simulated = False
    state = LinkState.CONNECTED

    def __init__(self, program: BoardProgram | None) -> None:
        self.program = program

    @property
    def can_show_icons(self) -> bool:
        return self.program is not None and self.program.can_show_icons


def test_board_words_for_the_screens() -> None:
    assert board_words(None) is None
    assert board_words(_Link(BoardProgram("kiosk", "1.0", "usb"))) is None  # type: ignore[arg-type]
    assert board_words(_Link(BoardProgram("foundation", "0.3.0", ""))) == NO_ICONS_WORDS  # type: ignore[arg-type]
    short = board_words(_Link(BoardProgram("foundation", "0.3.0", "")), short=True)  # type: ignore[arg-type]
    assert short is not None and "nothing is lost" in short
    remote = board_words(_Link(BoardProgram("kiosk", "1.0", "remote")))  # type: ignore[arg-type]
    assert remote is not None and "Prepare a micro:bit" in remote
