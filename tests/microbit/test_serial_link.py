"""SerialLink over a real pseudo-terminal, against a fake board speaking the protocol."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kiosk.errors import LinkError
from kiosk.microbit import serial_link
from kiosk.microbit.link import Fault, LinkState
from kiosk.microbit.serial_link import SerialLink, find_serial_boards, parse_remote_id
from kiosk.signal import SampleBuffer

from .fake_serial_board import (
    FAST,
    Events,
    FakeSerialBoard,
    clamp,
    is_contiguous_run,
    is_subsequence,
    received_milli_g,
    sample_values,
    sent_xyz,
    wait_for,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def board():
    with FakeSerialBoard(rate_hz=200, lines_per_write=2) as fake:
        yield fake


@pytest.fixture
def links():
    made: list[SerialLink] = []
    yield made
    for link in made:
        link.close()


def open_link(links: list[SerialLink], port: str, **kwargs) -> tuple[SerialLink, Events]:
    kwargs.setdefault("timings", FAST)
    kwargs.setdefault("buffer", SampleBuffer(20000))
    link = SerialLink(port, **kwargs)
    links.append(link)
    events = Events(link)
    link.connect()
    return link, events


def test_streams_samples_in_g_exactly_as_the_board_sent_them(board, links) -> None:
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    assert wait_for(lambda: len(link.samples) >= 60)
    got = received_milli_g(link)
    assert is_contiguous_run(got, sent_xyz(board.log.sent))
    # the first samples of the board's stream, decoded to g, clamped like the firmware
    first = board.log.sent.index((*got[0], 0))
    for k, (x, y, z) in enumerate(got[:10], start=first):
        assert (x, y, z) == tuple(clamp(v) for v in sample_values(k))
    window = link.samples.latest(50)
    assert np.all(np.diff(window.t) >= 0)  # time-stamped on arrival, never backwards
    assert np.all(np.abs(window.xyz) <= 2.048)
    assert board.log.commands[:5] == [
        ("HS", ""),
        ("SWVER", ""),
        ("HWVER", ""),
        ("MBID", ""),
        ("ZSTART", "AB"),
    ]
    assert link.program is not None and link.program.program == "foundation"
    assert link.board_id == "3141592653" and link.hardware == "2"
    assert not board.panicked
    assert link.stats["rejected"] == 0 and link.stats["lost"] == 0


def test_button_bits_become_press_and_release_events(board, links) -> None:
    _link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    for bits in (1, 3, 2, 0):
        start = len(board.log.sent)
        board.buttons = bits
        assert wait_for(lambda s=start: len(board.log.sent) > s + 4)
    assert wait_for(lambda: len(events.buttons) >= 4)
    presses = [(e.button, e.pressed) for e in events.buttons]
    assert presses == [("A", True), ("B", True), ("A", False), ("B", False)]


def test_held_button_is_released_when_the_board_is_unplugged(board, links) -> None:
    _link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    board.buttons = 2
    assert wait_for(lambda: [(e.button, e.pressed) for e in events.buttons] == [("B", True)])
    board.unplug()
    assert wait_for(lambda: [(e.button, e.pressed) for e in events.buttons][-1] == ("B", False))


def test_auto_finds_the_board_and_survives_unplug_replug_on_a_new_path(board, links) -> None:
    looked: list[int] = []

    def finder() -> list[str]:
        looked.append(1)
        return board.ports()

    link, events = open_link(links, "auto", port_finder=finder)
    assert events.wait_count(LinkState.CONNECTED, 1)
    first_path = board.path
    board.unplug()
    assert wait_for(lambda: link.state is LinkState.RECONNECTING)
    assert wait_for(lambda: any(s.fault is Fault.UNPLUGGED for s in events.states))
    # Stays unplugged while the link looks for it again and again: it waits, it does
    # not fail (counted in looks at the ports, not in seconds a busy machine can miss).
    seen = len(looked)
    assert wait_for(lambda: len(looked) >= seen + 5)
    assert link.state is LinkState.RECONNECTING
    assert not any(s.state is LinkState.FAILED for s in events.states)
    board.replug()
    assert events.wait_count(LinkState.CONNECTED, 2)
    before = len(link.samples)
    assert wait_for(lambda: len(link.samples) >= before + 40)
    assert is_contiguous_run(received_milli_g(link)[before:], sent_xyz(board.log.sent))
    assert board.log.handshakes >= 2
    assert link.current_port == board.path
    assert first_path  # the pty may or may not get the same number; either must work


def test_a_stable_device_path_that_comes_back_is_reopened(tmp_path: Path, links) -> None:
    with FakeSerialBoard(rate_hz=200, stable_path=tmp_path / "ttyMICROBIT") as fake:
        link, events = open_link(links, fake.path)
        assert events.wait_count(LinkState.CONNECTED, 1)
        fake.unplug()
        assert wait_for(lambda: link.state is LinkState.RECONNECTING)
        fake.replug()
        assert events.wait_count(LinkState.CONNECTED, 2)
        before = len(link.samples)
        assert wait_for(lambda: len(link.samples) >= before + 20)


def test_silence_reconnects_with_a_new_handshake(board, links) -> None:
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    board.go_silent(0.5)
    assert events.wait_count(LinkState.RECONNECTING, 1)
    lost = [s for s in events.states if s.fault is Fault.CONNECTION_LOST]
    assert lost and "stopped sending" in lost[0].reason
    assert events.wait_count(LinkState.CONNECTED, 2)
    assert board.log.handshakes >= 2
    assert link.stats["drops"] >= 1


def test_a_board_that_never_answers_ends_failed_with_a_reason(links) -> None:
    with FakeSerialBoard(answer_handshake=False) as fake:
        link, events = open_link(links, fake.path)
        assert wait_for(lambda: link.state is LinkState.FAILED, 10)
        assert link.fault is Fault.NO_ANSWER and "does not answer" in link.reason
        retries = [s for s in events.states if "Trying again" in s.reason]
        assert len(retries) == FAST.retry.attempts_before_failed - 1
        assert all(s.fault is Fault.NO_ANSWER for s in retries)
        hellos = sum(1 for c, _ in fake.log.commands if c == "HS")
        assert hellos >= FAST.retry.attempts_before_failed
        assert not fake.streaming
        # the kiosk can start over: connect() again once the board is fixed
        fake.answer_handshake = True
        link.connect()
        assert events.wait_count(LinkState.CONNECTED, 1)


def test_a_board_speaking_another_protocol_version_fails_clearly(links) -> None:
    with FakeSerialBoard(protocol_version="2") as fake:
        link, _ = open_link(links, fake.path)
        assert wait_for(lambda: link.state is LinkState.FAILED, 10)
        assert link.fault is Fault.WRONG_PROGRAM and "protocol version 2" in link.reason


def test_radio_bridge_sets_remote_id_and_never_retunes(board, links) -> None:
    link, events = open_link(links, board.path, remote_id="0x1234")
    assert events.wait_count(LinkState.CONNECTED, 1)
    commands = [c for c, _ in board.log.commands]
    assert ("RMBID", str(0x1234)) in board.log.commands
    assert commands.index("RMBID") < commands.index("ZSTART")
    assert "RF" not in commands  # RF retunes the bridge only: the remote would be lost
    assert board.remote_id == str(0x1234) and board.radio_frequency == "42"
    assert "remote micro:bit 4660" in link.description


def test_radio_bridge_refusing_the_remote_id_fails_with_advice(links) -> None:
    with FakeSerialBoard(accept_remote_id=False) as fake:
        link, _ = open_link(links, fake.path, remote_id=99)
        assert wait_for(lambda: link.state is LinkState.FAILED, 10)
        assert link.fault is Fault.BAD_SETTING
        assert "remote micro:bit 99" in link.reason and "ERROR[2]" in link.reason


def test_silent_remote_board_is_explained(links) -> None:
    with FakeSerialBoard() as fake:
        fake.go_silent(60)
        link, _ = open_link(links, fake.path, remote_id=5)
        assert wait_for(lambda: link.state is LinkState.FAILED, 10)
        assert link.fault is Fault.NO_DATA
        assert "remote micro:bit 5" in link.reason and "switched on" in link.reason


def test_close_sends_stop_and_releases_the_port(board, links) -> None:
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    thread = link._thread
    link.close()
    assert link.state is LinkState.DISCONNECTED
    # close() joined the link's thread: nothing is left that could read the port.
    assert thread is not None and not thread.is_alive()
    assert wait_for(lambda: ("STOP", "") in board.log.commands)
    assert wait_for(lambda: not board.streaming)


def test_show_icon_on_the_foundations_program_is_a_no_op_with_one_note(
    board, links, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.microbit.serial_link")
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    smile = [[False, True, False, True, False]] * 2 + [[False] * 5] + [[True] * 5] * 2
    for _ in range(5):
        link.show_icon(smile)
        time.sleep(0.02)
    assert wait_for(lambda: any("no LED command" in r.message for r in caplog.records))
    time.sleep(0.05)
    assert sum("no LED command" in r.message for r in caplog.records) == 1
    assert link.state is LinkState.CONNECTED
    assert not link.can_show_icons
    assert "LED" not in [c for c, _ in board.log.commands] and not board.panicked


def test_the_kiosks_own_program_shows_icons_and_gives_its_id(links) -> None:
    with FakeSerialBoard(rate_hz=200, swver="kiosk-1.0-usb") as fake:
        link, events = open_link(links, fake.path)
        assert not link.can_show_icons  # nothing known before the handshake
        assert events.wait_count(LinkState.CONNECTED, 1)
        assert link.program is not None and link.program.program == "kiosk"
        assert link.program.role == "usb" and link.program.version == "1.0"
        assert link.can_show_icons and link.board_id == "305419896"
        heart = [[False, True, False, True, False]] * 2 + [[True] * 5] * 3
        link.show_icon(heart)
        assert wait_for(lambda: link.stats["icons_shown"] == 1)
        assert fake.icons == ["0A0A1F1F1F"]
        assert "kiosk's program 1.0 (usb)" in link.description
        assert link.state is LinkState.CONNECTED and link.stats["rejected"] == 0


def test_a_radio_remote_set_on_a_kiosk_usb_board_sends_no_unknown_command(links) -> None:
    with FakeSerialBoard(rate_hz=200, swver="kiosk-1.0-usb") as fake:
        _link, events = open_link(links, fake.path, remote_id=77)
        assert events.wait_count(LinkState.CONNECTED, 1)
        assert "RMBID" not in [c for c, _ in fake.log.commands]


def test_a_kiosk_radio_bridge_gets_the_remote_id(links) -> None:
    with FakeSerialBoard(rate_hz=200, swver="kiosk-1.0-bridge") as fake:
        _link, events = open_link(links, fake.path, remote_id=77)
        assert events.wait_count(LinkState.CONNECTED, 1)
        assert ("RMBID", "77") in fake.log.commands and fake.remote_id == "77"


def test_an_old_foundation_program_is_never_sent_mbid(links) -> None:
    with FakeSerialBoard(rate_hz=200, swver="0.1.0") as fake:
        link, events = open_link(links, fake.path)
        assert events.wait_count(LinkState.CONNECTED, 1)
        assert "MBID" not in [c for c, _ in fake.log.commands]
        assert link.board_id is None and not fake.panicked


def test_a_board_frozen_past_the_failure_limit_comes_back_by_itself(board, links) -> None:
    """Issue 19: a USB board frozen for longer than the retries used to stay failed."""
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    board.freeze(3.0)  # FAST gives up after about 1.5 s of unanswered handshakes
    assert events.wait_count(LinkState.FAILED, 1, timeout=10)
    assert link.fault is Fault.NO_ANSWER and "does not answer" in link.reason
    # nobody calls connect() again: the board thaws and the link finds it
    assert events.wait_count(LinkState.CONNECTED, 2, timeout=15)
    before = len(link.samples)
    assert wait_for(lambda: len(link.samples) >= before + 20)
    # while failed it retried quietly: no flicker back to "connecting" on screen
    states = [s.state for s in events.states]
    after_failed = states[states.index(LinkState.FAILED) + 1 :]
    assert after_failed[0] is LinkState.CONNECTED


def test_waits_for_a_board_that_is_not_plugged_in(links) -> None:
    link, events = open_link(links, "auto", port_finder=lambda: [])
    assert wait_for(lambda: any(s.fault is Fault.BOARD_NOT_FOUND for s in events.states))
    time.sleep(0.1)
    assert link.state is LinkState.CONNECTING  # waiting is not failing
    assert link.fault is Fault.BOARD_NOT_FOUND
    link.close()
    assert link.state is LinkState.DISCONNECTED


def test_an_unopenable_port_fails_with_the_reason(tmp_path: Path, links) -> None:
    not_a_tty = tmp_path / "ttyFAKE"
    not_a_tty.write_text("")

    def refuse(path: str, _timeout: float):
        raise serial_link._port_errors()[0](f"[Errno 13] Permission denied: '{path}'")

    link, _ = open_link(links, str(not_a_tty), serial_factory=refuse)
    assert wait_for(lambda: link.state is LinkState.FAILED, 10)
    assert link.fault is Fault.PERMISSION_MISSING and "dialout" in link.reason


def test_faults_in_the_stream_never_corrupt_samples(board, links) -> None:
    link, events = open_link(links, board.path)
    assert events.wait_count(LinkState.CONNECTED, 1)
    kinds = [
        "garbage",
        "partial",
        "overlong",
        "wrong_length",
        "bad_hex",
        "bad_buttons",
        "noise_line",
        "stray_response",
    ]
    for i in range(80):
        board.inject(kinds[i % len(kinds)])
        time.sleep(0.002)
    sent_before = len(board.log.sent)
    assert wait_for(lambda: len(board.log.sent) > sent_before + 40)
    time.sleep(0.05)
    got = received_milli_g(link)
    assert is_subsequence(got, sent_xyz(board.log.sent))
    assert link.state is LinkState.CONNECTED and events.count(LinkState.CONNECTED) == 1
    assert link.stats["rejected"] > 0 and link.stats["overlong"] > 0 and link.stats["noise"] > 0
    # samples after the faults arrive whole and in order
    assert is_contiguous_run(got[-30:], sent_xyz(board.log.sent))


def test_find_serial_boards_matches_the_microbit_usb_ids(monkeypatch) -> None:
    ports = [
        SimpleNamespace(device="/dev/ttyACM1", vid=0x0D28, pid=0x0204),
        SimpleNamespace(device="/dev/ttyUSB0", vid=0x0403, pid=0x6001),
        SimpleNamespace(device="/dev/ttyACM0", vid=0x0D28, pid=0x0204),
        SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None),
    ]
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    assert find_serial_boards() == ["/dev/ttyACM0", "/dev/ttyACM1"]


@pytest.mark.parametrize(
    ("text", "value"),
    [(None, None), ("", None), ("  ", None), ("1234", 1234), ("0x1A", 26), (7, 7)],
)
def test_remote_ids_parse(text, value) -> None:
    assert parse_remote_id(text) == value


@pytest.mark.parametrize("text", ["abc", "-1", str(2**32), "12 34"])
def test_bad_remote_ids_raise_link_error(text) -> None:
    with pytest.raises(LinkError):
        parse_remote_id(text)


def test_timings_are_injectable() -> None:
    slow = dataclasses.replace(FAST, silence_timeout_s=9.0)
    assert SerialLink("auto", timings=slow).timings.silence_timeout_s == 9.0


def test_bursts_take_the_vectorised_path_with_the_same_result(links) -> None:
    with FakeSerialBoard(rate_hz=2000, lines_per_write=40) as fake:
        link, events = open_link(links, fake.path)
        assert events.wait_count(LinkState.CONNECTED, 1)
        fake.buttons = 1
        assert wait_for(lambda: len(link.samples) >= 400)
        fake.buttons = 0
        start = len(fake.log.sent)
        assert wait_for(lambda: len(fake.log.sent) >= start + 400)
        assert wait_for(lambda: len(events.buttons) >= 2)
        link.close()
        got = received_milli_g(link)
        assert is_contiguous_run(got, sent_xyz(fake.log.sent))
        assert [(e.button, e.pressed) for e in events.buttons] == [("A", True), ("A", False)]
        window = link.samples.latest(len(got))
        assert np.all(np.diff(window.t) >= 0)
