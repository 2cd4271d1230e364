"""What is on each micro:bit plugged into the kiosk, and what to do if it is not right.

Used by ``kiosk doctor`` (one line per board for staff) and the admin screen's
"Prepare a micro:bit". The kiosk expects its own program in the role its
settings call for: ``bridge`` when a radio remote is set, ``usb`` otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiosk.firmware.flasher import Prober, probe_board
from kiosk.microbit.serial_link import find_serial_boards
from kiosk.microbit.serial_protocol import BoardProgram

OK, WARN = "ok", "warn"


@dataclass(frozen=True)
class BoardReport:
    port: str
    program: BoardProgram | None  # None: it did not answer the handshake
    board_id: str | None
    status: str  # OK or WARN
    detail: str  # what is on it, for staff
    fix: str  # what to do, "" when fine


def expected_role(radio_remote_id: str) -> str:
    return "bridge" if radio_remote_id.strip() else "usb"


def judge(port: str, program: BoardProgram | None, board_id: str | None, role: str) -> BoardReport:
    """The verdict on one board, given what it answered and the role the kiosk expects."""
    if program is None:
        return BoardReport(
            port,
            None,
            None,
            WARN,
            "does not answer the kiosk's handshake (another program, or it is busy)",
            f"put the kiosk's program on it: kiosk flash {role} (or admin screen, "
            "Prepare a micro:bit)",
        )
    ident = f", id {board_id}" if board_id else ""
    detail = f"runs {program.words}{ident}"
    if program.program == "kiosk" and program.role == role:
        return BoardReport(port, program, board_id, OK, detail, "")
    if program.program == "kiosk" and program.role == "remote":
        return BoardReport(
            port,
            program,
            board_id,
            WARN,
            detail,
            f"this is a radio remote: put it on a battery and set radio_remote_id = "
            f"{board_id or '<its id>'}; plug the bridge in instead",
        )
    if program.program == "foundation":
        return BoardReport(
            port,
            program,
            board_id,
            WARN,
            f"{detail}: it works, but cannot show the recognised action's icon",
            f"for icons, put the kiosk's program on it: kiosk flash {role}",
        )
    return BoardReport(
        port,
        program,
        board_id,
        WARN,
        f"{detail}, but this kiosk expects its {role} program",
        f"kiosk flash {role}",
    )


def attached_boards(
    radio_remote_id: str = "",
    *,
    ports: Callable[[], list[str]] = find_serial_boards,
    probe: Prober = probe_board,
) -> list[BoardReport]:
    """One report per micro:bit on USB (empty when none is plugged in)."""
    role = expected_role(radio_remote_id)
    reports = []
    for port in ports():
        answer = probe(port)
        program, board_id = answer if answer is not None else (None, None)
        reports.append(judge(port, program, board_id, role))
    return reports
