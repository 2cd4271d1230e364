"""SDL hints and the pygame lock the UI applies (with the dummy video driver)."""

from __future__ import annotations

import os

import pytest

from kiosk.system.lockdown import apply_sdl_hints, is_escape_event, lock_pygame_display, sdl_hints


def test_locked_hints_close_the_escape_routes() -> None:
    hints = sdl_hints(locked=True)
    assert hints["SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS"] == "0"
    assert hints["SDL_NO_SIGNAL_HANDLERS"] == "1"
    assert hints["SDL_GRAB_KEYBOARD"] == "1"
    windowed = sdl_hints(locked=False)
    assert "SDL_GRAB_KEYBOARD" not in windowed and "SDL_NO_SIGNAL_HANDLERS" not in windowed


def test_apply_keeps_values_set_by_the_technician() -> None:
    env = {"SDL_GRAB_KEYBOARD": "0"}
    effective = apply_sdl_hints(True, env)
    assert env["SDL_GRAB_KEYBOARD"] == "0" and effective["SDL_GRAB_KEYBOARD"] == "0"
    assert env["SDL_VIDEO_MINIMIZE_ON_FOCUS_LOSS"] == "0"
    assert set(effective) == set(sdl_hints(True))


def test_lock_pygame_display_hides_cursor_and_grabs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    pygame = pytest.importorskip("pygame")
    pygame.display.init()
    try:
        pygame.display.set_mode((64, 48))
        grabs: list[bool] = []
        real_set_grab = pygame.event.set_grab
        # The dummy driver cannot grab, so record the request.
        monkeypatch.setattr(
            pygame.event, "set_grab", lambda on: (grabs.append(on), real_set_grab(on))
        )
        lock_pygame_display(pygame, locked=False)
        assert pygame.mouse.get_visible() is True and grabs == []
        lock_pygame_display(pygame, locked=True)
        assert pygame.mouse.get_visible() is False
        assert grabs == [True]
        assert is_escape_event(pygame.QUIT, pygame) and is_escape_event(pygame.KEYDOWN, pygame)
        assert not is_escape_event(pygame.FINGERDOWN, pygame)
        assert not is_escape_event(pygame.MOUSEBUTTONDOWN, pygame)
    finally:
        pygame.display.quit()
