"""Visitor words about the board come from the typed fault, chosen in the session layer."""

from __future__ import annotations

import threading

import pytest

from kiosk.microbit.link import BoardFault, Fault, Link, LinkState
from kiosk.session.board_words import lost_words, pair_failed_words, waiting_words
from kiosk.session.connection import Connection, News, PairStatus

KINDS = ("USB", "Bluetooth", "Simulated")
#: Words that belong in the staff detail, never on the visitor's screen.
STAFF_WORDS = ("/dev", "tty", "dialout", "CAP_", "protocol", "hci", "bluepy", "RMBID", "error")
STAFF_DETAIL = "HS unanswered on /dev/ttyACM0 (protocol 1, errno 5)"


def _visitor_text(text: str) -> None:
    assert text and text[-1] in ".…!", text
    assert len(text) <= 150, text
    for word in STAFF_WORDS:
        assert word.lower() not in text.lower(), (word, text)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", [None, *Fault])
def test_every_fault_has_short_plain_words_for_every_kind(fault, kind) -> None:
    _visitor_text(waiting_words(fault, kind))
    failed = pair_failed_words(fault, kind)
    _visitor_text(failed.what)
    _visitor_text(failed.next)
    for gave_up in (False, True):
        lost = lost_words(fault, kind, gave_up=gave_up)
        assert "recordings are safe" in lost.sentence
        assert ("Connect again" in lost.sentence) is gave_up
        _visitor_text(lost.what)


def test_words_fit_the_way_forward_to_the_kind_of_link() -> None:
    assert "USB cable" in waiting_words(Fault.BOARD_NOT_FOUND, "USB")
    assert "USB" not in waiting_words(Fault.BOARD_NOT_FOUND, "Bluetooth")
    assert "lights" in pair_failed_words(Fault.BOARD_NOT_FOUND, "Bluetooth").sentence
    assert "plugged in" in pair_failed_words(Fault.BOARD_NOT_FOUND, "USB").what
    assert "staff" in pair_failed_words(Fault.WRONG_PROGRAM, "USB").next
    assert "Bluetooth" in pair_failed_words(Fault.ADAPTER_DOWN, "Bluetooth").what
    assert "unplugged" in lost_words(Fault.UNPLUGGED, "USB", gave_up=False).what
    assert "battery" in lost_words(Fault.CONNECTION_LOST, "Bluetooth", gave_up=False).next


class Scripted(Link):
    """A link the test drives by hand (no thread)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def connect(self) -> None:
        pass

    def _run(self, stop: threading.Event) -> None:  # pragma: no cover - never started
        pass

    def say(self, state: LinkState, fault: Fault | None = None) -> None:
        self._set_state(state, f"{state.value}: {STAFF_DETAIL}", fault)


def _open(kind: str) -> tuple[Connection, Scripted]:
    connection = Connection()
    link = Scripted(kind)
    assert connection.open(lambda: link)
    return connection, link


def test_pairing_words_follow_the_fault_never_the_staff_detail() -> None:
    connection, link = _open("USB")
    link.say(LinkState.CONNECTING, Fault.BOARD_NOT_FOUND)
    assert connection.poll(0.0) == []
    assert connection.message == waiting_words(Fault.BOARD_NOT_FOUND, "USB")
    # progress within the next attempt carries no fault: the words about the last one stay
    link.say(LinkState.CONNECTING)
    connection.poll(0.0)
    assert connection.message == waiting_words(Fault.BOARD_NOT_FOUND, "USB")
    link.say(LinkState.FAILED, Fault.WRONG_PROGRAM)
    assert [n.news for n in connection.poll(0.0)] == [News.PAIR_FAILED]
    assert connection.status is PairStatus.FAILED
    assert connection.message == pair_failed_words(Fault.WRONG_PROGRAM, "USB").sentence
    assert "/dev" not in connection.message


def test_the_lost_board_banner_follows_the_fault() -> None:
    connection, link = _open("USB")
    link.say(LinkState.CONNECTED)
    assert [n.news for n in connection.poll(0.0)] == [News.PAIRED]
    link.say(LinkState.RECONNECTING, Fault.UNPLUGGED)
    assert [n.news for n in connection.poll(0.0)] == [News.LOST]
    assert connection.problem == lost_words(Fault.UNPLUGGED, "USB", gave_up=False).sentence
    link.say(LinkState.RECONNECTING)  # saying hello again: still the unplugged words
    connection.poll(0.0)
    assert connection.problem is not None and "unplugged" in connection.problem
    link.say(LinkState.FAILED, Fault.NO_ANSWER)
    assert [n.news for n in connection.poll(0.0)] == [News.GAVE_UP]
    assert connection.problem == lost_words(Fault.NO_ANSWER, "USB", gave_up=True).sentence
    link.say(LinkState.CONNECTED)
    assert [n.news for n in connection.poll(0.0)] == [News.BACK]
    assert connection.problem is None


def test_a_bluetooth_drop_gets_radio_words() -> None:
    connection, link = _open("Bluetooth")
    link.say(LinkState.CONNECTED)
    connection.poll(0.0)
    link.say(LinkState.RECONNECTING, Fault.CONNECTION_LOST)
    connection.poll(0.0)
    assert connection.problem is not None
    assert "keep it close" in connection.problem and "recordings are safe" in connection.problem


def test_a_link_that_cannot_start_gets_the_faults_words() -> None:
    connection = Connection()

    def no_bluetooth() -> Link:
        raise BoardFault(Fault.ADAPTER_MISSING, "bluepy is not installed", retry=False)

    assert not connection.open(no_bluetooth)
    assert connection.status is PairStatus.FAILED
    assert "bluepy" not in connection.message and "staff" in connection.message
