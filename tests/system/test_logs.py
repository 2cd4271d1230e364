"""Logging goes to journald with priorities under systemd, to stderr elsewhere."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from kiosk.system import logs
from kiosk.system.logs import configure_logging


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def no_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)


def test_plain_stderr_outside_systemd(no_systemd: None, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    handler = configure_logging("debug")
    assert type(handler) is logging.StreamHandler
    logging.getLogger("kiosk.test").debug("hello %s", "there")
    assert "DEBUG kiosk.test: hello there" in stream.getvalue()


def test_repeated_calls_and_basic_config_do_not_duplicate(no_systemd: None) -> None:
    logging.basicConfig()
    configure_logging()
    configure_logging("warning")
    root = logging.getLogger()
    assert len(root.handlers) == 1
    assert root.level == logging.WARNING


def test_unknown_level_falls_back_to_info(no_systemd: None) -> None:
    configure_logging("loud")
    assert logging.getLogger().level == logging.INFO


def test_journal_handler_with_priorities_under_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    journal = pytest.importorskip("systemd.journal", reason="systemd-python is not installed")
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    sent: list[dict[str, object]] = []

    def fake_send(*args: str, **fields: object) -> None:  # journal.send(MESSAGE, **fields)
        sent.append({"MESSAGE": args[0], **fields})

    handler = configure_logging("info")
    assert isinstance(handler, journal.JournalHandler)
    handler.send = fake_send  # instead of the real journal
    log = logging.getLogger("kiosk.ui")
    log.warning("the micro:bit went away")
    log.error("cannot save")
    log.debug("not shown at info")
    assert [m["MESSAGE"] for m in sent] == ["the micro:bit went away", "cannot save"]
    assert [str(m["PRIORITY"]) for m in sent] == ["4", "3"]
    assert all(m["SYSLOG_IDENTIFIER"] == "microbit-kiosk" for m in sent)


def test_priority_prefixes_when_systemd_python_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    monkeypatch.setattr(logs, "_journal_handler", lambda: None)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    configure_logging("info")
    logging.getLogger("kiosk.store").warning("disk nearly full\nsecond line")
    logging.getLogger("kiosk.store").info("saved")
    assert stream.getvalue().splitlines() == [
        "<4>kiosk.store: disk nearly full",
        "<4>second line",
        "<6>kiosk.store: saved",
    ]
