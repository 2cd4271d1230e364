"""UI figures: frame time on the test screen with live data, start-up time, memory after a journey.

- ``frame_ms_p50/p95_<size>``: one app frame (events, session tick with a live
  prediction, drawing, flip) on the test screen while a simulated board
  streams at 50 Hz, at 800x480 and 1280x720. Baseline in the same process:
  ``flip_ms_<size>``, a frame that only fills the screen and flips it;
  ``frame_vs_flip_<size>`` is the ratio.
- ``startup_s``: from starting a fresh Python process to the app's first
  frame (a subprocess, so imports are counted).
- ``rss_mb``: resident memory at the end of the full headless demo journey
  at 800x480 (the journey below).
- ``slow_disk_journey_*``: the same at 800x480 with every commit 200 ms
  slower, and how many commits the UI thread made (none: the writer does).
- ``take_home_build_*``: frames on the test screen while the take-home hex is
  built, in a child process (the kiosk's way) and, as the baseline, on a thread.
- ``journey_*``: frame times over the whole scripted journey at each size,
  overall and per screen and "Why?" view, with garbage collections and the
  slowest frames named (``kiosk.bench.journey``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kiosk.bench import journey

SIZES = ((800, 480), (1280, 720))
FRAMES = 600  # 10 s per size at 60 fps: the p95 is the 30th slowest frame
SLOW_DISK_S = 0.2
MOVES = (("Still", "still"), ("Shake", "shake"), ("Circle", "circle"))


def _trained_session(db_path: Path):
    """A session on the test screen with a model trained by the real trainer on synthetic moves."""
    from kiosk.dataset import Recording
    from kiosk.microbit.gestures import synthesize
    from kiosk.session.boards import HardwareBoards
    from kiosk.session.session import Session
    from kiosk.settings import Settings
    from kiosk.store.database import Store

    store = Store.open(db_path)
    settings = Settings()
    session = Session(store, HardwareBoards(lambda: settings), settings)
    session.start()
    session.use_simulated_board()
    for name, _ in MOVES:
        session.choose_action(name)
    for index, (_, gesture) in enumerate(MOVES):
        for seed in range(4):
            session.data.add_recording(
                index, Recording(synthesize(gesture, 1.0, seed=seed * 10 + index))
            )
    deadline = time.monotonic() + 5
    while not session.connected and time.monotonic() < deadline:
        session.tick()
        time.sleep(0.01)
    session.actions_done()
    session.train()
    job = session.learning.training
    assert job is not None, "training did not start"
    job.wait(300)
    session.tick()
    session.test()
    session.set_pretend_gesture("shake")
    return session, store


def _frame_figures(size: tuple[int, int], session) -> dict[str, float]:
    import pygame

    from kiosk.ui.app import AppOptions, KioskApp

    app = KioskApp(session, AppOptions(size=size, fullscreen=False))
    try:
        for _ in range(30):  # warm up: static layer, text cache, first predictions
            app.step()
            app.clock.tick(60)
        app.frame_ms.clear()
        predictions = session.learning.tester.predictions
        started = time.monotonic()
        for _ in range(FRAMES):
            app.step()
            app.clock.tick(60)
        elapsed = time.monotonic() - started
        frame = np.asarray(app.frame_ms)
        made = session.learning.tester.predictions - predictions
        flips = []
        for _ in range(FRAMES // 2):
            t0 = time.perf_counter()
            app.window.fill((0, 0, 0))
            pygame.display.flip()
            flips.append((time.perf_counter() - t0) * 1000.0)
    finally:
        app.close()
    tag = f"{size[0]}x{size[1]}"
    p50, p95 = float(np.percentile(frame, 50)), float(np.percentile(frame, 95))
    flip = float(np.percentile(flips, 50))
    return {
        f"frame_ms_p50_{tag}": round(p50, 3),
        f"frame_ms_p95_{tag}": round(p95, 3),
        f"flip_ms_{tag}": round(flip, 4),
        f"frame_vs_flip_{tag}": round(p95 / max(flip, 1e-6), 1),
        f"predictions_per_s_{tag}": round(made / elapsed, 1),
    }


def _take_home_figures(session) -> dict[str, float]:
    """Frames on the test screen (800x480) while "Put my model on my micro:bit" builds its
    hex: in a child process (the kiosk's way) against the baseline of the same build on a
    thread of this process."""
    import threading

    from kiosk.firmware.hexbuild import build_files_hex, build_files_hex_apart
    from kiosk.ml.microbit_model import main_py
    from kiosk.session.take_home import BOARD_VERSION
    from kiosk.ui.app import AppOptions, KioskApp

    network = session.learning.trained.model.network
    files = {"main.py": main_py(network, session.take_home_moves(), session.window)}
    figures: dict[str, float] = {}
    app = KioskApp(session, AppOptions(size=(800, 480), fullscreen=False))
    try:
        for _ in range(30):
            app.step()
            app.clock.tick(60)
        for way, build in (("thread", build_files_hex), ("child", build_files_hex_apart)):
            thread = threading.Thread(target=build, args=(BOARD_VERSION, files))
            app.frame_ms.clear()
            started = time.monotonic()
            thread.start()
            while thread.is_alive():
                app.step()
                app.clock.tick(60)
            elapsed = time.monotonic() - started
            frame = np.asarray(app.frame_ms)
            figures[f"take_home_build_s_{way}"] = round(elapsed, 3)
            figures[f"take_home_build_frame_ms_p95_{way}"] = round(
                float(np.percentile(frame, 95)), 3
            )
            figures[f"take_home_build_frame_ms_max_{way}"] = round(float(frame.max()), 3)
    finally:
        app.close()
    figures["take_home_build_frame_p95_thread_vs_child"] = round(
        figures["take_home_build_frame_ms_p95_thread"]
        / max(figures["take_home_build_frame_ms_p95_child"], 1e-6),
        1,
    )
    return figures


def _startup_s() -> float:
    # The video driver in force (``kiosk bench --window``: a real one, window creation counted).
    env = dict(os.environ, SDL_AUDIODRIVER="dummy")
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.time()
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk.bench.ui",
                "--first-frame",
                str(Path(tmp) / "db.sqlite3"),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        first_frame = float(out.stdout.strip().splitlines()[-1])
    return first_frame - started


def run() -> dict[str, float]:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        session, store = _trained_session(Path(tmp) / "bench.sqlite3")
        try:
            for size in SIZES:
                figures.update(_frame_figures(size, session))
            figures.update(_take_home_figures(session))
        finally:
            if session.learning.tester is not None:
                session.learning.tester.stop()  # the live prediction thread (a real-time link)
            session.link.close()
            session.close()
            store.close()
    figures["startup_s"] = round(_startup_s(), 3)
    for size in SIZES:
        result = journey.run_child(size)
        figures.update(journey.figures(size, result))
        if size == SIZES[0]:
            figures["rss_mb"] = round(float(result["rss_mb"]), 1)
            figures["rss_mb_after_imports"] = round(float(result["baseline_rss_mb"]), 1)
    # The same journey on a slow disk: every commit 200 ms (an SD card's worst fsyncs).
    slow = journey.run_child(SIZES[0], SLOW_DISK_S)
    figures.update(journey.figures(SIZES[0], slow, prefix="slow_disk_journey"))
    figures["slow_disk_commit_ms"] = SLOW_DISK_S * 1000.0
    return figures


def _first_frame(db_path: str) -> None:
    """Child process for ``startup_s``: build the app as ``kiosk run`` does, draw one frame."""
    from kiosk.session.boards import HardwareBoards
    from kiosk.session.session import Session
    from kiosk.settings import Settings
    from kiosk.store.database import Store
    from kiosk.ui.app import AppOptions, KioskApp

    settings = Settings()
    session = Session(Store.open(db_path), HardwareBoards(lambda: settings), settings)
    app = KioskApp(session, AppOptions(size=(800, 480), fullscreen=False))
    app.step()
    print(time.time(), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--first-frame":
        _first_frame(sys.argv[2])
    else:
        print(json.dumps(run(), indent=1))
