"""The scripted journey: a pretend visitor drives the real app through real pygame events.

Everything a visitor would do is done by posting touch events (FINGERDOWN /
FINGERUP / FINGERMOTION at a button's centre) into pygame's queue and letting
the app's own loop handle them; the simulated micro:bit makes a fitting
gesture for each move and presses its button B once. Every screen and state
is saved as a PNG, and the figures of the run go to ``summary.json``.
Runs headless with ``SDL_VIDEODRIVER=dummy``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kiosk.i18n import _

if TYPE_CHECKING:
    from kiosk.session.session import Session
    from kiosk.ui.demo_boards import DemoBoard

log = logging.getLogger(__name__)

DEMO_MOVES = ("Still", "Shake", "Circle")


@dataclass(frozen=True)
class DemoPlan:
    size: tuple[int, int] = (800, 480)
    recordings_per_move: int = 5  # one "Record 5 in a row" per move (plus one by button B)
    test_seconds: float = 3.0  # per move on the test screen
    fps: int = 60  # frames drawn per second at most (fewer leave a slow machine's CPU to others)
    countdown_s: float = 1.5
    gap_s: float = 0.5
    diagonal_inches: float = 7.0
    moves: tuple[str, ...] = DEMO_MOVES
    language: str = "en"  # staff's default, and the visitor taps it on the attract screen


class DemoFailed(RuntimeError):
    """The scripted visitor could not do a step (a button missing, a screen not reached)."""


class DemoDriver:
    """Posts events to a running KioskApp and steps its frames."""

    def __init__(self, app, out_dir: Path, fps: int = 60) -> None:
        import pygame

        self.pygame = pygame
        self.fps = fps
        self.app = app
        self.session = app.session
        self.out = out_dir
        self.shots: list[str] = []

    # ---- stepping ---------------------------------------------------------------

    def frames(self, n: int = 1) -> None:
        for _frame in range(n):
            self.app.step()
            self.app.clock.tick(self.fps)

    def until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Step frames until ``condition``; the deadline (stretched for a loaded machine)
        only turns a hang into a failure, it is never what a step waits for."""
        deadline = time.monotonic() + max(timeout_s * 10, 60.0)
        while not condition():
            if time.monotonic() > deadline:
                raise DemoFailed(
                    f"timed out waiting for {what} (screen {self.session.screen.value})"
                )
            self.frames()

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.frames()

    # ---- touching -----------------------------------------------------------------

    def _finger(self, kind: int, pos: tuple[int, int]) -> None:
        w, h = self.app.window.get_size()
        x, y = self.app.canvas_to_window(pos)
        self.pygame.event.post(
            self.pygame.event.Event(
                kind, x=x / w, y=y / h, dx=0.0, dy=0.0, finger_id=0, touch_id=0, pressure=1.0
            )
        )

    def tap(self, name: str, hold_frames: int = 2) -> None:
        button = self.app.button(name)
        if button is None or not button.enabled:
            raise DemoFailed(
                f"no enabled button {name!r} on the {self.session.screen.value} screen"
            )
        self.tap_at(button.rect.center, hold_frames)

    def tap_at(self, pos: tuple[int, int], hold_frames: int = 2) -> None:
        self._finger(self.pygame.FINGERDOWN, pos)
        self.frames(hold_frames)
        self._finger(self.pygame.FINGERUP, pos)
        self.frames(2)

    def drag(self, name: str, to_fraction: float) -> None:
        """Press a slider and drag it to ``to_fraction`` of its width."""
        rect = self.app.button(name).rect
        start = rect.center
        end = (int(rect.left + 12 + (rect.width - 24) * to_fraction), rect.centery)
        self._finger(self.pygame.FINGERDOWN, start)
        self.frames(1)
        for f in np.linspace(0.0, 1.0, 6)[1:]:
            point = (int(start[0] + (end[0] - start[0]) * f), start[1])
            self._finger(self.pygame.FINGERMOTION, point)
            self.frames(1)
        self._finger(self.pygame.FINGERUP, end)
        self.frames(2)

    def hold_corner(self, seconds: float) -> None:
        """Hold the corner until the PIN pad opens (a slow frame cannot cut the hold short)."""
        from kiosk.session.screens import Screen

        pos = (5, 5)
        self._finger(self.pygame.FINGERDOWN, pos)
        self.run_for(seconds)
        self.until(lambda: self.session.screen is Screen.ADMIN, seconds + 5, "the PIN pad")
        self._finger(self.pygame.FINGERUP, pos)
        self.frames(2)

    def shot_if(self, condition: Callable[[], bool], timeout_s: float, state: str) -> bool:
        """A picture of a passing moment (a countdown), if the frames catch it.

        A busy machine can step past a short moment between two frames; the
        journey does not depend on it, so a missed moment is a missed picture,
        not a failure.
        """
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                log.info("missed the moment for %s", state)
                return False
            self.frames()
        self._save(state)
        return True

    def shot(self, state: str) -> None:
        self.frames(2)
        self._save(state)

    def _save(self, state: str) -> None:
        name = f"{len(self.shots) + 1:02d}_{self.session.screen.value}_{state}.png"
        self.app.screenshot(str(self.out / name))
        self.shots.append(name)


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_demo(
    out_dir: Path, plan: DemoPlan = DemoPlan(), board: DemoBoard | None = None
) -> dict[str, object]:
    """Run the whole journey headless with ``board`` (default the pretend one); the summary."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kiosk.session.boards import HardwareBoards
    from kiosk.session.session import Session
    from kiosk.settings import Settings
    from kiosk.store.database import Store
    from kiosk.ui.app import AppOptions, KioskApp
    from kiosk.ui.demo_boards import SimulatedDemoBoard

    board = board or SimulatedDemoBoard()
    baseline_rss = rss_mb()
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    db_path = out_dir / "demo.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    store = Store.open(db_path)
    settings = Settings(countdown_s=plan.countdown_s, gap_s=plan.gap_s, language=plan.language)
    session = Session(store, HardwareBoards(lambda: settings), settings)
    app = KioskApp(
        session,
        AppOptions(
            size=plan.size,
            fullscreen=False,
            diagonal_inches=plan.diagonal_inches,
            locked=True,
            corner_hold_s=1.0,
        ),
    )
    d = DemoDriver(app, out_dir, plan.fps)
    started = time.monotonic()
    try:
        summary = _journey(d, plan, board)
        summary["rss_mb"] = round(rss_mb(), 1)
        summary["baseline_rss_mb"] = round(baseline_rss, 1)  # after imports, before the app
    finally:
        if session.link is not None:
            session.link.close()
        app.close()
        session.close()
        store.close()
        board.close()
    frame_ms = np.asarray(app.frame_ms)
    summary.update(
        size=f"{plan.size[0]}x{plan.size[1]}",
        screens=[s.value for s in session.screens_visited],
        frame_ms_p50=round(float(np.percentile(frame_ms, 50)), 3),
        frame_ms_p95=round(float(np.percentile(frame_ms, 95)), 3),
        frames=len(frame_ms),
        seconds=round(time.monotonic() - started, 2),
        screenshots=d.shots,
    )
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def _counting_down(s: Session) -> Callable[[], bool]:
    return lambda: s.collecting.recorder.countdown_number(time.monotonic()) > 0


def _recording_under_way(s: Session) -> Callable[[], bool]:
    return lambda: s.collecting.recorder.progress(time.monotonic()) > 0.4


def _journey(d: DemoDriver, plan: DemoPlan, board: DemoBoard) -> dict[str, object]:
    s = d.session
    from kiosk.session.screens import Screen

    d.frames(5)
    if d.app.button(f"language_{plan.language}") is not None:
        d.tap(f"language_{plan.language}")
    d.shot("touch_to_start")
    d.tap_at((d.app.metrics.width // 2, d.app.metrics.height // 2))
    d.shot("empty_grid")
    for column, height in enumerate((3, 1, 5, 2, 4)):
        d.tap(f"cell_{column}_{height}")
    d.shot("pattern_copied")
    board.pair(d)
    d.until(lambda: s.screen is Screen.ACTIONS, 10, "the micro:bit to connect")
    link = s.link.description if s.link is not None else None
    d.shot("nothing_picked")
    for move in plan.moves:
        d.tap(f"choose_{_(move).lower()}")  # a move is named in the language on screen
    d.shot("moves_picked")
    d.tap("next")
    d.shot("no_recordings")
    for index, move in enumerate(plan.moves):
        board.record_move(s, move)
        d.tap(f"action_{index}")
        d.tap("record_5" if plan.recordings_per_move >= 5 else "record")
        d.until(lambda: s.collecting.recorder.busy, 2, "the countdown")
        if index == 0:
            d.shot_if(_counting_down(s), 2, "countdown")
            d.shot_if(_recording_under_way(s), 10, "recording")
        d.until(lambda: not s.collecting.recorder.busy, 30, "the recordings")
        # Top up until the move has its recordings: a take the board was too slow for
        # (a loaded machine starves the pretend board's thread) is refused, never kept.
        action = s.data.actions[index]
        tries = 0
        while len(action.recordings) < plan.recordings_per_move:
            tries += 1
            if tries > 3 * plan.recordings_per_move:
                raise DemoFailed(f"{action.name} kept only {len(action.recordings)} recordings")
            d.tap("record")
            d.until(lambda: s.collecting.recorder.busy, 2, "a recording to start")
            d.until(lambda: not s.collecting.recorder.busy, 15, "a recording")
    d.shot("fingerprints")
    # Button B on the micro:bit records too.
    before = s.data.n_recordings
    for _attempt in range(3):  # a take a starved pretend board was too slow for is refused: again
        board.press_b(s)
        d.until(lambda: s.collecting.recorder.busy, 2, "button B to start a recording")
        d.until(lambda: not s.collecting.recorder.busy, 15, "the button-B recording")
        if s.data.n_recordings > before:
            break
    if s.data.n_recordings != before + 1:
        raise DemoFailed("button B did not add a recording")
    # Look at one recording larger, tap a square to hear what it means, delete it, undo.
    first = s.data.actions[0].recordings[-1].id  # the newest tile is always on screen
    d.tap(f"tile_{first}")
    d.shot("recording_enlarged")
    d.tap_at(d.app.scene.square_centre(12))
    d.shot("square_explained")
    d.tap("delete_recording")
    d.shot("recording_deleted")
    d.tap("undo")
    if s.data.n_recordings != before + 1:
        raise DemoFailed("undo did not put the deleted recording back")
    # The board drops out for a moment: the visitor is told what to do, nothing is lost.
    kept = s.data.n_recordings
    board.drop_out(s, 3.0)
    d.until(lambda: s.connection.problem is not None, 5, "the lost-link banner")
    d.shot("micro_bit_lost")
    d.until(lambda: s.connection.problem is None, 10, "the board to come back")
    if s.data.n_recordings != kept:
        raise DemoFailed("recordings were lost when the board dropped out")
    d.until(lambda: s.can_train, 10, "enough recordings to train")
    d.tap("train")
    d.shot("learning")
    d.until(lambda: s.learning.training is None, 120, "training")
    if s.learning.trained is None:
        raise DemoFailed(f"training failed: {s.learning.training_error}")
    # The model comes first and can be tested at once; the picture is of the honest score.
    d.until(lambda: not s.learning.scoring, 60, "the honest score")
    d.shot("accuracy")
    # Explore what it learned: the map, the squares each move needs, the averages.
    d.until(lambda: s.learning.explore.importance_ready, 60, "the explore pictures")
    for tab in ("map", "squares", "averages"):
        d.tap(f"tab_{tab}")
        if s.learning.explore.view != tab:
            raise DemoFailed(f"the {tab} tab did not open")
        d.shot(f"explore_{tab}")
    d.tap("tab_score")
    recordings = s.data.n_recordings
    s.writer.flush()  # the model is saved by the store's writer thread
    stored = s.store.latest_model(s.data.project_id)
    if stored is None:
        raise DemoFailed("the trained model was not saved")
    cv_accuracy = float(stored.metrics["cv_accuracy"])
    d.tap("test")
    d.shot("started")
    recognised: dict[str, float] = {}
    predictions_before = s.learning.tester.predictions
    test_started = time.monotonic()
    for index, move in enumerate(plan.moves):
        board.test_move(d, index, move)
        d.run_for(plan.test_seconds * 0.4)  # the window fills with the new move
        hits = frames = 0
        deadline = time.monotonic() + plan.test_seconds * 0.6
        while time.monotonic() < deadline:
            d.frames()
            frames += 1
            hits += int(s.learning.tester.detected == index)
        recognised[move] = round(hits / max(1, frames), 3)
        d.shot(f"doing_{move.lower()}")
    test_seconds = time.monotonic() - test_started
    predictions = s.learning.tester.predictions - predictions_before
    d.drag("threshold_0", 0.5)
    d.shot("threshold_dragged")
    if d.app.button("why").enabled:
        d.tap("why")
        d.run_for(0.3)
        d.shot("why")
        d.tap("why_map")
        d.run_for(0.3)
        d.shot("why_map")
        d.tap("why_squares")
        d.tap("why")
    # Staff: hold the corner, type the PIN, look at the settings and the keyboard.
    # "Start again" asks before it deletes anything: the first tap only asks.
    d.tap("start_again")
    d.shot("start_again_asks")
    if s.screen is not Screen.TEST:
        raise DemoFailed("one tap on Start again reset the visit")
    d.hold_corner(1.0)
    d.shot("pin")
    for digit in "1234":
        d.tap(f"pin_{digit}")
    d.tap("pin_ok")
    d.shot("settings")
    # Staff: freeze these recordings as a set, record a few more, then compare the two.
    d.tap("save_snapshot")
    d.tap("close_admin")
    d.tap("record_more")
    d.tap("action_1")
    d.tap("record")
    d.until(lambda: s.collecting.recorder.busy, 2, "the extra recording")
    d.until(lambda: not s.collecting.recorder.busy, 15, "the extra recording")
    d.hold_corner(1.0)
    for digit in "1234":
        d.tap(f"pin_{digit}")
    d.tap("pin_ok")
    d.tap("compare")
    for choice in s.staff.compare.choices[:2]:
        d.tap(f"set_{choice.id}")
    d.shot("compare_pick")
    d.tap("compare_start")
    d.until(
        lambda: s.staff.compare.comparison is not None or s.staff.compare.error,
        120,
        "the comparison",
    )
    if s.staff.compare.comparison is None:
        raise DemoFailed(f"the comparison failed: {s.staff.compare.error}")
    board.set_gesture(s, "shake")
    d.run_for(1.5)
    d.shot("compare")
    d.tap("compare_back")
    d.tap("keyboard")
    for key in "hop":
        d.tap(f"key_{key}")
    d.shot("keyboard")
    d.tap("key_add")
    board.put_down(s)  # the visitor has gone: nobody moves the board
    d.tap("close_admin")
    # Nobody touches anything: a countdown, then the kiosk resets for the next visitor.
    # (A long countdown so no frame can miss it, moved on to show the number a
    # visitor sees first; then a short one.)
    s.idle.timeout_s, s.idle.countdown_s = 1.0, 600.0
    d.until(lambda: s.idle_countdown() is not None, 5, "the idle countdown")
    s.idle.countdown_s = s.settings.idle_countdown_s
    s.idle.last_activity = time.monotonic() - s.idle.timeout_s - 0.01
    d.shot("idle_countdown")
    s.idle.countdown_s = 0.5
    d.until(lambda: s.screen is Screen.ATTRACT, 10, "the reset")
    d.shot("next_visitor")
    if s.data.n_recordings != 0:
        raise DemoFailed("the reset did not wipe the visitor's recordings")
    return {
        "recordings": recordings,
        "recordings_made": s.recordings_made,
        "cv_accuracy": round(cv_accuracy, 4),
        "predictions_per_s": round(predictions / test_seconds, 2),
        "test_recognised": recognised,
        "moves": list(plan.moves),
        "board": board.name,
        "link": link,
    }
