"""What keeps a visitor inside the exhibit, in the parts the app itself controls.

Three layers close the ways out:

1. The system (deploy/install.sh and services/microbit-kiosk-console.service):
   no login prompt on the display, console switching (Ctrl+Alt+F1..F12,
   Alt+Left/Right), Ctrl+Alt+Del and SysRq disabled.
2. SDL, before the display opens: the hints in ``sdl_hints()``, applied by
   ``apply_sdl_hints()``.
3. The UI loop (kiosk/ui, owned by the UI code), after the display opens:
   ``lock_pygame_display(pygame)`` hides the cursor and grabs input, and the
   loop ignores every key and the QUIT event while ``locked`` is true; only
   the admin PIN (``kiosk.system.pin.verify_pin``) leaves.

This module never imports pygame (``kiosk/system`` has no UI dependency);
the UI passes its ``pygame`` module in.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

# SDL hint -> value, each set as an environment variable before pygame.init().
_LOCKED_HINTS: dict[str, str] = {
    # A fullscreen window must not iconify when focus moves (Alt+Tab under a
    # desktop, a notification): a minimised exhibit shows the desktop.
    "SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS": "0",
    # Under a window system, grab the keyboard so system shortcuts (Alt+Tab,
    # the Super key) reach the app, which ignores them, instead of the desktop.
    "SDL_GRAB_KEYBOARD": "1",
    "SDL_ALLOW_ALT_TAB_WHILE_GRABBED": "0",
    # SDL would turn SIGINT/SIGTERM into a QUIT event that looks like a
    # visitor's; the app installs its own SIGTERM handler instead (systemd
    # stop), and ignores QUIT events while locked.
    "SDL_NO_SIGNAL_HANDLERS": "1",
    # Closing the last window must not quit (SDL >= 2.0.22).
    "SDL_QUIT_ON_LAST_WINDOW_CLOSE": "0",
    # Windows only, harmless elsewhere: Alt+F4 must not close the window.
    "SDL_WINDOWS_NO_CLOSE_ON_ALT_F4": "1",
    # The panel must not blank while visitors are looking at it.
    "SDL_VIDEO_ALLOW_SCREENSAVER": "0",
    "PYGAME_HIDE_SUPPORT_PROMPT": "1",
}

# In a developer's window: a normal window that can be closed and left.
_WINDOWED_HINTS: dict[str, str] = {
    "SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS": "0",
    "SDL_VIDEO_ALLOW_SCREENSAVER": "0",
    "PYGAME_HIDE_SUPPORT_PROMPT": "1",
}


def sdl_hints(locked: bool = True) -> dict[str, str]:
    """The SDL hints (environment variables) for a locked exhibit, or for a dev window."""
    return dict(_LOCKED_HINTS if locked else _WINDOWED_HINTS)


def apply_sdl_hints(
    locked: bool = True, environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Set the hints in ``environ`` (default ``os.environ``) before ``pygame.init()``.

    A value already set (for example by a systemd drop-in, for debugging) is
    kept. Returns the hints as they are now in effect.
    """
    env = os.environ if environ is None else environ
    for key, value in sdl_hints(locked).items():
        env.setdefault(key, value)
    return {key: env[key] for key in sdl_hints(locked)}


def lock_pygame_display(pygame: Any, locked: bool = True) -> None:
    """After ``pygame.display.set_mode``: hide the cursor and keep input in the app.

    Touch panels still deliver touches (and SDL's emulated mouse events)
    with the cursor hidden.
    """
    if not locked:
        return
    pygame.mouse.set_visible(False)
    pygame.event.set_grab(True)
    # Text input would bring up an on-screen keyboard or IME on some
    # platforms; the kiosk has its own keypad.
    pygame.key.stop_text_input()


def is_escape_event(event_type: int, pygame: Any) -> bool:
    """True for the events a locked UI must ignore: QUIT and every key.

    The loop drops these while locked; the admin menu (corner hold + PIN) is
    the only way out.
    """
    return event_type in (pygame.QUIT, pygame.KEYDOWN, pygame.KEYUP, pygame.TEXTINPUT)
