"""A fake clock and a stepped pretend micro:bit, so the journey runs headless and fast.

The simulated board runs without its thread: each ``advance(dt)`` moves the
fake clock and makes the board deliver exactly ``dt`` seconds of samples,
time-stamped on the same clock, then ticks the session.
"""

from __future__ import annotations

from pathlib import Path

from kiosk.errors import LinkError
from kiosk.microbit.link import Link, LinkState
from kiosk.microbit.simulated import SimulatedLink
from kiosk.session.session import Session
from kiosk.settings import Settings
from kiosk.store.database import Store


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class SteppedLink(SimulatedLink):
    """A simulated board advanced by the test, not by a thread."""

    def connect(self) -> None:
        self.run_for(0.0)

    def close(self, timeout: float = 3.0) -> None:
        self._set_state(LinkState.DISCONNECTED, "Disconnected.")


class FailingLink(Link):
    kind = "Bluetooth"

    def connect(self) -> None:
        self._set_state(LinkState.CONNECTING, "Looking for your micro:bit…")
        self._set_state(LinkState.FAILED, "No micro:bit with that pattern answered.")

    def _run(self, stop) -> None:  # pragma: no cover - never started
        pass


class Boards:
    """A BoardSource for tests: Bluetooth works or fails as told; USB as told."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.usb = False
        self.bluetooth_works = True
        self.opened: list[tuple[str, str]] = []
        self.links: list[SteppedLink] = []
        self.rate_hz = 50.0

    def usb_board_present(self) -> bool:
        return self.usb

    def _stepped(self) -> SteppedLink:
        link = SteppedLink(
            gesture="still",
            seed=len(self.links),
            realtime=False,
            rate_hz=self.rate_hz,
            start_time=self.clock.t,
        )
        self.links.append(link)
        return link

    def open_bluetooth(self, columns: str) -> Link:
        self.opened.append(("ble", columns))
        return self._stepped() if self.bluetooth_works else FailingLink()

    def open_usb(self) -> Link:
        self.opened.append(("usb", ""))
        if not self.usb:
            raise LinkError("No micro:bit is plugged in.")
        return self._stepped()

    def open_simulated(self) -> Link:
        self.opened.append(("simulated", ""))
        return self._stepped()


class Journey:
    """A session with its clock, boards and store, plus helpers to let time pass."""

    def __init__(self, tmp_path: Path, **settings) -> None:
        self.clock = Clock()
        self.boards = Boards(self.clock)
        self.store = Store.open(tmp_path / "kiosk.sqlite3")
        defaults = {"countdown_s": 0.3, "gap_s": 0.2}
        defaults.update(settings)
        self.settings = Settings(**defaults)
        self.session = Session(self.store, self.boards, self.settings, clock=self.clock)

    def advance(self, seconds: float, step: float = 0.02) -> None:
        """Let ``seconds`` pass in steps: the board delivers samples, the session ticks."""
        n = max(1, round(seconds / step))
        for _ in range(n):
            self.clock.t += step
            link = self.session.link
            if isinstance(link, SteppedLink):
                link.run_for(step)
            self.session.tick()

    def until(self, condition, limit_s: float = 30.0, step: float = 0.02) -> None:
        waited = 0.0
        while not condition():
            assert waited < limit_s, "condition not reached in time"
            self.advance(step, step)
            waited += step

    def unlock_admin(self) -> None:
        """Open the admin screen and type the default PIN, then OK."""
        s = self.session
        s.open_admin()
        for digit in "1234":
            s.enter_pin_digit(digit)
        s.submit_pin()
        assert s.staff.unlocked

    def finish_explore(self) -> None:
        """Wait for everything training sends (score, importance) and the explore pictures'
        worker thread (each may be done already), then tick."""
        learning = self.session.learning
        streaming = learning.streaming
        if streaming is not None:
            assert streaming.wait(120), "training did not finish"
        self.advance(0.1)  # the session collects the score, then the importance
        job = learning.explore.job
        if job is not None:
            job.wait(120)
        self.advance(0.05)
        assert self.session.learning.explore.result is not None

    def connect_pretend(self) -> None:
        s = self.session
        s.start()
        s.use_simulated_board()
        self.advance(0.1)

    def pick(self, *names: str) -> None:
        for name in names:
            self.session.choose_action(name)
        self.session.actions_done()

    def make_own_move(self, name: str, icon: str) -> None:
        """From the actions screen: type ``name``, pick ``icon`` (turning pages), add it."""
        s = self.session
        s.make_own_move()
        for key in name.lower():
            s.own_move_type("space" if key == " " else key)
        s.own_move_next()
        for _page in range(s.own_move.page_count()):
            if icon in s.own_move.page_icons():
                break
            s.own_move_more_icons()
        s.own_move_pick_icon(icon)
        s.own_move_add()

    def trained(self, moves: tuple[str, ...], per_move: int = 3) -> Journey:
        """Pretend board, ``moves`` recorded ``per_move`` times each, and a model (train screen)."""
        self.connect_pretend()
        self.pick(*moves)
        for index in range(len(moves)):
            self.record(index, per_move)
        self.session.train()
        assert self.session.learning.training is not None
        self.session.learning.training.wait(900)
        self.advance(0.05)
        assert self.session.learning.trained is not None, self.session.learning.training_error
        return self

    def on_the_test_screen(self, moves: tuple[str, ...], per_move: int = 3) -> Journey:
        """``trained``, then testing."""
        self.trained(moves, per_move)
        self.session.test()
        self.advance(0.5)
        return self

    def record(self, index: int, count: int) -> None:
        self.session.record_many(index, count)
        self.until(lambda: not self.session.collecting.recorder.busy)
        assert self.session.writer.flush()  # kept: committed by the store's writer thread
