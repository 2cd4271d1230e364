"""The app in a real X window (Xvfb): it presents through shared memory, not OpenGL.

Without a GPU, SDL's default OpenGL-backed window is Mesa's software renderer
(LLVM loaded: 90 MB more memory, a present 10x slower), so the app asks for
SDL's shared-memory framebuffer on X11 (``software_framebuffer_on_x11``).
Each check runs the app's first frames in a child process on a private Xvfb
and reads which libraries the child loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

CHILD = """
import json, sys
from pathlib import Path
import pygame
from kiosk.session.boards import HardwareBoards
from kiosk.session.session import Session
from kiosk.settings import Settings
from kiosk.store.database import Store
from kiosk.ui.app import AppOptions, KioskApp

settings = Settings()
session = Session(Store.open(sys.argv[1]), HardwareBoards(lambda: settings), settings)
app = KioskApp(session, AppOptions(size=(800, 480), fullscreen=False))
for _ in range(3):
    app.step()
libraries = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()}
print(json.dumps({
    "driver": pygame.display.get_driver(),
    "size": list(pygame.display.get_surface().get_size()),
    "gl": sorted(l for l in libraries if "libGL" in l or "LLVM" in l or "_dri.so" in l),
}))
"""


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb; its display number is read from ``-displayfd`` once it is ready."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("no Xvfb: scripts/setup.sh installs the xvfb package", pytrace=False)
    read, write = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as ready:
        number = ready.readline().strip()
    if not number:
        process.kill()
        process.wait(30)
        pytest.fail(f"Xvfb did not start (exit {process.returncode})", pytrace=False)
    try:
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(30)


def first_frames(display: str, tmp_path: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SDL_FRAMEBUFFER_ACCELERATION"}
    env.update(DISPLAY=display, SDL_VIDEODRIVER="x11", **extra)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "kiosk.sqlite3")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_window_presents_without_opengl(display: str, tmp_path: Path) -> None:
    shown = first_frames(display, tmp_path)
    assert shown["driver"] == "x11" and shown["size"] == [800, 480]
    assert shown["gl"] == [], f"the window loaded OpenGL: {shown['gl']}"


def test_a_framebuffer_setting_in_the_environment_wins(display: str, tmp_path: Path) -> None:
    # Also shows that the check above can see OpenGL when it is there.
    shown = first_frames(display, tmp_path, SDL_FRAMEBUFFER_ACCELERATION="1")
    assert shown["driver"] == "x11"
    assert any("libGL" in library for library in shown["gl"]), shown
