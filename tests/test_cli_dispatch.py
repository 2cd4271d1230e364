"""The ``kiosk`` dispatcher: default command, one-line errors, and the bench collector."""

from __future__ import annotations

import argparse
import json

import pytest

from kiosk import cli
from kiosk.errors import DatasetFormatError


def _parser_with(commands: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    for name in commands:
        sub.add_parser(name)
    return parser


def test_no_command_means_run_and_options_are_kept() -> None:
    parser = _parser_with(["run", "demo"])
    assert cli._with_default_command([], parser) == ["run"]
    assert cli._with_default_command(["--windowed"], parser) == ["run", "--windowed"]
    assert cli._with_default_command(["demo", "--headless"], parser) == ["demo", "--headless"]
    assert cli._with_default_command(["--help"], parser) == ["--help"]


def test_kiosk_error_becomes_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(_args: argparse.Namespace) -> int:
        raise DatasetFormatError("broken.json is not valid JSON (line 1, column 1: oops)")

    real_build = cli.build_parser

    def build_with_failing_command() -> argparse.ArgumentParser:
        parser = real_build()
        assert parser._subparsers is not None
        action = parser._subparsers._group_actions[0]
        action.add_parser("explode").set_defaults(func=failing)  # type: ignore[attr-defined]
        return parser

    monkeypatch.setattr(cli, "build_parser", build_with_failing_command)
    assert cli.main(["explode"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["kiosk explode: broken.json is not valid JSON (line 1, column 1: oops)"]


def test_bench_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bench", "--json", "--only", "no-such-area"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"bench_total_s", "bench_video_driver"}  # what ran, and on which display
