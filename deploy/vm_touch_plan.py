"""Where staff touch to reach "Exit to shell", for ``check-arm64.sh --boot``.

Run with the installed kiosk's Python (in the arm64 root, before it boots):
it opens the real app off screen (SDL's dummy driver) at the booted
machine's screen size with the installed kiosk.toml, holds the hidden
corner, types a PIN on the pad, and reads where the PIN keys, OK and the
admin screen's "Exit to shell" button are, as fractions of the screen (what
a touch panel reports). The booted machine then touches those places
through a real (uinput) touch device: deploy/arm64-vm-touch.py.

    python vm_touch_plan.py 800x480     # prints "NAME X Y" lines
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    width, height = (int(part) for part in argv[1].lower().split("x"))
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    from kiosk.session.boards import HardwareBoards
    from kiosk.session.screens import Screen
    from kiosk.session.session import Session
    from kiosk.store.database import Store
    from kiosk.system.config import load_config
    from kiosk.ui.app import AppOptions, KioskApp
    from kiosk.ui.demo import DemoDriver

    config, _problems = load_config(None, admin_settings=False)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "plan.sqlite3")
        session = Session(store, HardwareBoards(lambda: config), config)
        app = KioskApp(
            session,
            AppOptions(
                size=(width, height),
                fullscreen=False,
                diagonal_inches=config.diagonal_inches,
                locked=True,
                corner_hold_s=config.corner_hold_s,
            ),
        )
        driver = DemoDriver(app, Path(tmp))
        try:
            driver.frames(3)

            def place(name: str, pos: tuple[int, int]) -> None:
                x, y = app.canvas_to_window(pos)
                w, h = app.window.get_size()
                print(f"{name} {x / w:.5f} {y / h:.5f}")

            def place_button(name: str) -> None:
                button = app.button(name)
                if button is None:
                    raise SystemExit(f"vm_touch_plan: no {name!r} button on {session.screen}")
                place(name, button.rect.center)

            place("corner", (5, 5))
            print(f"corner_hold_s {config.corner_hold_s}")
            driver.hold_corner(config.corner_hold_s)
            if session.screen is not Screen.ADMIN:
                raise SystemExit("vm_touch_plan: the corner did not open the PIN pad")
            for digit in "0123456789":
                place_button(f"pin_{digit}")
            place_button("pin_ok")
            for digit in "1234":  # this off-screen session's PIN, only to see the next page
                driver.tap(f"pin_{digit}")
            driver.tap("pin_ok")
            if not session.staff.unlocked:
                raise SystemExit("vm_touch_plan: the admin screen did not open")
            place_button("exit")
        finally:
            app.close()
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
