"""The pygame app loop: touches in, intents to the session, the current screen drawn out.

One frame: read events (touches only; keys and window-close are ignored while
the exhibit is locked), turn taps into the session's intents, ``tick`` the
session, draw the scene (a cached static layer plus the live parts), play the
session's sound cues, and tell systemd the app is alive. Drawing happens on a
canvas the size of the logical screen; a rotated display gets the canvas
turned, and touches are mapped back.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Protocol

import pygame

from kiosk import i18n
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.system.notify import Liveness
from kiosk.ui import chrome, draw
from kiosk.ui.metrics import Metrics
from kiosk.ui.redraw import Redraw
from kiosk.ui.scenes.actions import ActionsScene
from kiosk.ui.scenes.admin import AdminScene
from kiosk.ui.scenes.attract import AttractScene
from kiosk.ui.scenes.base import Scene
from kiosk.ui.scenes.make_move import MakeMoveScene
from kiosk.ui.scenes.pair import PairScene
from kiosk.ui.scenes.record import RecordScene
from kiosk.ui.scenes.test import TestScene
from kiosk.ui.scenes.train import TrainScene
from kiosk.ui.sound import Sounds
from kiosk.ui.text import TextCache
from kiosk.ui.touch import Touch, TouchReader, to_canvas
from kiosk.ui.widgets import Button, hit

log = logging.getLogger(__name__)

FPS = 60
# The input stage (events drained, touches handled) must complete this often
# while the loop runs, or the watchdog ping is withheld: a dead input path is
# a hang (see kiosk.system.notify.Liveness).
INPUT_STALL_S = 10.0
INPUT_FAILURES_DEAD = 3  # touches in a row whose handling raised: the input path is dead
RECOGNISED_SOUND_GAP_S = 0.8  # a wobbling decision must not machine-gun the speaker
CORNER_SLOP_PX = 30
# Modules the session imports the first time a visitor needs them (a board to look for,
# the pretend board, the "Why?" explainer): 10-35 ms each here, so at start-up instead of
# in the frame of the tap that needs them.
PREWARM_MODULES = ("kiosk.microbit.factory", "kiosk.microbit.simulated", "kiosk.ml.explain")


class Collector:
    """Garbage collection kept out of the frames that matter.

    A full collection walks every tracked object: 20-100 ms here with the
    kiosk's imports (numpy, pygame, TFLite) loaded, a dropped frame or several.
    So at start-up everything alive is frozen (``gc.freeze``: never walked
    again), automatic full collections are switched off, and a full collection
    of what the visit made runs only on an idle frame: on the attract screen or
    after a reset, at most every ``FULL_EVERY_S``, when the frame so far was
    short. The young generations still collect as usual (well under 1 ms).
    """

    FULL_EVERY_S = 30.0
    # A kiosk kept busy for this long (no attract screen) still collects, on a short frame.
    FULL_AT_LEAST_S = 600.0
    FULL_WITHIN_MS = 4.0  # the frame's own work so far, for a collection to be added to it
    # Full collections only when asked: a huge third threshold (the count of young
    # collections that triggers one) stands for "never" without disabling the others.
    NO_AUTOMATIC_FULL = 1_000_000

    def __init__(self) -> None:
        self.frozen = 0
        self.full_collections = 0
        self._last_full = -1e18
        self._thresholds = gc.get_threshold()

    def start(self) -> None:
        """After start-up: collect once, freeze what is left, stop automatic full collections."""
        gc.collect()
        gc.freeze()
        self.frozen = gc.get_freeze_count()
        self._last_full = time.monotonic()
        first, second, _ = self._thresholds
        gc.set_threshold(first, second, self.NO_AUTOMATIC_FULL)

    def stop(self) -> None:
        """Back to Python's own collection (the app is closing; another may follow)."""
        gc.set_threshold(*self._thresholds)
        gc.unfreeze()

    def after_frame(self, frame_ms: float, idle: bool) -> bool:
        """A full collection now, if one is due and the frame allows it (True when run).

        ``idle``: nobody is waiting on this frame (between visitors). Real time, not
        the session's clock: this is about the process, not the visit.
        """
        now = time.monotonic()
        due = self.FULL_EVERY_S if idle else self.FULL_AT_LEAST_S
        if now - self._last_full < due or frame_ms > self.FULL_WITHIN_MS:
            return False
        self._last_full = now
        gc.collect()
        self.full_collections += 1
        return True


def software_framebuffer_on_x11() -> None:
    """On X11, present through shared memory (XShm) rather than an OpenGL texture.

    SDL's default on Linux backs the window with an OpenGL texture; without a GPU
    (Xvfb, a desktop without drivers) that is Mesa's software renderer, which
    loads LLVM: measured here, 90 MB more resident memory and a present 10x
    slower (1.1 against 0.11 ms at 800x480). The picture is the same; the
    kiosk draws in software anyway. Only for X11: KMS/DRM (the Pi's console)
    has no other way to present. A setting already in the environment wins.
    """
    if pygame.display.get_driver() == "x11":
        os.environ.setdefault("SDL_FRAMEBUFFER_ACCELERATION", "0")


@dataclass(frozen=True)
class AppOptions:
    size: tuple[int, int] | None = None  # None: the display's own size
    fullscreen: bool = True
    diagonal_inches: float = 7.0
    locked: bool = True  # ignore keys and window-close (the exhibit); False for a dev window
    corner_hold_s: float = 3.0
    sound_volume: float = 0.6
    full_redraw: bool = False  # redraw the static layer every frame (for a display that loses it)


class Notifier(Protocol):
    """What the app needs from systemd's notifier (``kiosk.system.notify.ServiceNotifier``)."""

    def ready(self, status: str | None = None) -> None: ...
    def status(self, text: str) -> None: ...
    def watchdog(self, liveness: Liveness | None = None) -> None: ...
    def stopping(self) -> None: ...


class NullNotifier:
    """No service manager to tell (a window on a desktop, a test)."""

    def ready(self, status: str | None = None) -> None:
        pass

    def status(self, text: str) -> None:
        pass

    def watchdog(self, liveness: Liveness | None = None) -> None:
        pass

    def stopping(self) -> None:
        pass


class KioskApp:
    canvas: pygame.Surface  # what scenes draw on (the window, or a turned copy's source)
    metrics: Metrics
    _static: pygame.Surface  # the cached static layer

    def __init__(
        self, session: Session, options: AppOptions, notifier: Notifier | None = None
    ) -> None:
        self.session = session
        self.options = options
        self.notifier: Notifier = notifier or NullNotifier()
        pygame.init()
        software_framebuffer_on_x11()
        flags = pygame.FULLSCREEN if options.fullscreen else 0
        size = options.size or (0, 0)
        self.window = pygame.display.set_mode(size, flags)
        pygame.display.set_caption("micro:bit machine learning")
        if options.locked:
            from kiosk.system.lockdown import lock_pygame_display

            lock_pygame_display(pygame)
        pygame.mouse.set_visible(False)
        self.cache = TextCache()
        self.sounds = Sounds(options.sound_volume)
        self.redraw = Redraw()  # the one record of what must be painted again
        self._size_canvas()
        self.scenes: dict[Screen, Scene] = {
            scene.screen: scene
            for scene in (
                kind(self.cache, self.metrics, self.redraw)
                for kind in (
                    AttractScene,
                    PairScene,
                    ActionsScene,
                    MakeMoveScene,
                    RecordScene,
                    TrainScene,
                    TestScene,
                    AdminScene,
                )
            )
        }
        self.touches = TouchReader(clock=lambda: self.session.now)
        self.liveness = Liveness(clock=lambda: self.session.now)
        self.liveness.expect("input", INPUT_STALL_S)
        self._input_epoch = (session.screen, session.reset_count)
        self._input_failures = 0
        self.clock = pygame.time.Clock()
        self.frame_ms: list[float] = []
        # The last frame's flip: on a real display the present (and any wait for the
        # screen's refresh) is part of the frame; the bench reports it apart as well.
        self.present_ms = 0.0
        self.frames = 0
        self.running = True
        self._rotation = -1
        self._static_key: Hashable = None
        self._buttons: list[Button] = []
        self._chrome: list[Button] = []
        self._pressed: Button | None = None
        self._corner_down: float | None = None
        self._corner_pos = (0, 0)
        self._last_recognised_sound = -1e9
        self._last_screen: Screen | None = None
        self._arrange()
        self._prewarm()
        self.collector = Collector()
        self.collector.start()

    def _prewarm(self) -> None:
        """What a first use would load inside a visitor's frame, loaded before the first one."""
        for name in PREWARM_MODULES:
            try:
                importlib.import_module(name)
            except ImportError as error:  # a missing optional part is reported where it is used
                log.info("not preloaded: %s (%s)", name, error)
        m = self.metrics
        # Every font size the screens use, fitted sizes included (a font file read each).
        for size in range(m.min_px, max(m.huge_px, m.title_px) + 1):
            self.cache.font(size)

    # ---- layout ---------------------------------------------------------------------

    @property
    def rotation(self) -> int:
        return self.session.settings.rotation % 360

    def _size_canvas(self) -> None:
        """The canvas and metrics for the window and the rotation in force."""
        self._rotation = self.rotation
        self._language = i18n.language()  # a new language redraws everything, caches too
        w, h = self.window.get_size()
        logical = (h, w) if self._rotation in (90, 270) else (w, h)
        self.canvas = self.window if self._rotation == 0 else pygame.Surface(logical).convert()
        self.metrics = Metrics.for_surface(logical[0], logical[1], self.options.diagonal_inches)
        self.cache.floor = self.metrics.min_px  # no visitor text shrinks below this
        self._static = pygame.Surface(logical).convert()
        self._static_key = None
        self.redraw.static_changed = True

    def _arrange(self) -> None:
        self._size_canvas()
        for scene in self.scenes.values():
            scene.layout(self.metrics)

    @property
    def scene(self) -> Scene:
        return self.scenes[self.session.screen]

    @property
    def buttons(self) -> list[Button]:
        """Buttons of the current screen, in canvas coordinates (for tests and the demo)."""
        self._refresh_static()
        return self._buttons + self._chrome

    def button(self, name: str) -> Button | None:
        for b in self.buttons:
            if b.name == name:
                return b
        return None

    def canvas_to_window(self, pos: tuple[int, int]) -> tuple[int, int]:
        """Inverse of the touch mapping: where on the window a canvas point appears."""
        w, h = self.canvas.get_size()
        x, y = pos
        if self._rotation == 90:
            return (h - 1 - y, x)
        if self._rotation == 180:
            return (w - 1 - x, h - 1 - y)
        if self._rotation == 270:
            return (y, w - 1 - x)
        return pos

    # ---- the loop -------------------------------------------------------------------

    def run(self, max_seconds: float | None = None) -> int:
        started = time.monotonic()
        while self.running:
            self.step()
            if self.session.staff.quit_requested:
                break
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
            self.clock.tick(FPS)
        self.notifier.stopping()
        return self.session.staff.exit_code  # EXIT_TO_SHELL keeps systemd from restarting us

    def step(self) -> None:
        """One frame: events, session tick, drawing, flip."""
        started = time.perf_counter()
        now = self.session.now  # one clock for the session and the screen
        self._read_input(now)
        self._corner_check(now)
        self.session.tick(now)
        if self.rotation != self._rotation or i18n.language() != self._language:
            self._arrange()
        self._draw(now)
        self._play_cues(now)
        if self.session.screen is not self._last_screen:
            self._last_screen = self.session.screen
            self.notifier.status(f"screen: {self.session.screen.value}")
        if self._rotation and self.redraw.canvas_changed:
            # A turned copy of the whole canvas (~1 ms at 800x480 here), so only when
            # something was painted: the window keeps the last one meanwhile.
            turned = pygame.transform.rotate(self.canvas, -self._rotation)
            self.window.blit(turned, (0, 0))
        presenting = time.perf_counter()
        pygame.display.flip()
        self.present_ms = (time.perf_counter() - presenting) * 1000.0
        self.collector.after_frame((time.perf_counter() - started) * 1000.0, self._idle())
        self.frame_ms.append((time.perf_counter() - started) * 1000.0)
        if len(self.frame_ms) > 20000:
            del self.frame_ms[:10000]
        if self.frames == 0:
            self.notifier.ready("showing the attract screen")
        self.frames += 1
        self.notifier.watchdog(self.liveness)

    def _idle(self) -> bool:
        """Nobody is waiting on this frame: the attract screen, between visitors."""
        return self.session.screen is Screen.ATTRACT and self._pressed is None

    # ---- input ----------------------------------------------------------------------

    def _read_input(self, now: float) -> None:
        """Make sure no press outlives its screen or its visitor, then drain the events."""
        # Checked before this frame's events: the screen changed since the last frame
        # (an idle reset, a tap, the session), so a press from before means nothing now,
        # while a press on the new screen, in this frame's events, is kept.
        epoch = (self.session.screen, self.session.reset_count)
        if epoch != self._input_epoch:
            self._input_epoch = epoch
            self._forget_press()
        elif self.touches.expire(now):
            log.warning("a touch was held implausibly long (its release was lost): forgotten")
            self._forget_press()
        for event in pygame.event.get():
            try:
                handled = self._event(event, now)
            except Exception:
                # One bad handler must not take the exhibit down with it, but an input
                # path that keeps failing is dead: no beat, so the watchdog restarts us.
                log.exception("a touch could not be handled")
                self._input_failures += 1
                self._forget_press()
            else:
                if handled:
                    self._input_failures = 0
        if self._input_failures < INPUT_FAILURES_DEAD:
            self.liveness.beat("input")

    def _forget_press(self) -> None:
        self.touches.reset()
        self._pressed = None
        self._corner_down = None

    def _event(self, event: pygame.event.Event, now: float) -> bool:
        """Handle one event; True when it was a touch the app acted on."""
        if event.type == pygame.QUIT or event.type in (
            pygame.KEYDOWN,
            pygame.KEYUP,
            pygame.TEXTINPUT,
        ):
            if not self.options.locked and (
                event.type == pygame.QUIT
                or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE)
            ):
                self.running = False
            return False  # locked: keyboard shortcuts never leave the exhibit
        touch = self.touches.read(event, self.window.get_size())
        if touch is None:
            return False
        pos = to_canvas(touch.pos, self._rotation, self.canvas.get_size())
        self._touch(Touch(touch.kind, pos), now)
        return True

    def _touch(self, touch: Touch, now: float) -> None:
        session = self.session
        if touch.kind == "down":
            counting_down = session.idle_countdown(now) is not None
            session.touch()
            if counting_down:
                self._pressed = None
                return  # the tap only says "still here"
            self._corner_down = now if self._in_corner(touch.pos) else None
            self._corner_pos = touch.pos
            self._pressed = hit(self.buttons, touch.pos)
            if self._pressed is not None and self._pressed.on_drag is not None:
                self._pressed.on_drag(touch.pos)
        elif touch.kind == "move":
            if self._corner_down is not None and _far(touch.pos, self._corner_pos):
                self._corner_down = None
            if self._pressed is not None and self._pressed.on_drag is not None:
                self._pressed.on_drag(touch.pos)
        else:
            pressed, self._pressed = self._pressed, None
            self._corner_down = None
            if (
                pressed is not None
                and pressed.on_tap is not None
                and pressed.rect.collidepoint(touch.pos)
            ):
                pressed.on_tap()

    def _in_corner(self, pos: tuple[int, int]) -> bool:
        side = self.metrics.unit
        return pos[0] < side and pos[1] < side

    def _corner_check(self, now: float) -> None:
        if self._corner_down is not None and now - self._corner_down >= self.options.corner_hold_s:
            self._corner_down = None
            self._pressed = None
            self.session.open_admin()

    # ---- drawing --------------------------------------------------------------------

    def _refresh_static(self) -> None:
        scene = self.scene
        session = self.session
        key = (
            session.screen,
            scene.static_key(session),
            session.messages.message,
            session.confirm.pending,  # a button's "Tap again to ..." face
            session.confirm.undoable,  # the "Undo" offer
            session.faults.unseen,  # the small staff mark
            session.connection.problem,
            chrome.needs_reconnect(session),
        )
        if key == self._static_key:
            return
        self._static_key = key
        self.redraw.static_changed = True
        blocked = session.board_lost
        self._buttons = scene.buttons(session)
        self._chrome = chrome.chrome_buttons(session, scene.frame, self.metrics) if blocked else []
        scene.draw_static(self._static, session, self._buttons)

    def _draw(self, now: float) -> None:
        session = self.session
        self._refresh_static()
        canvas = self.canvas
        scene = self.scene
        # A scene that says where its live parts paint (``live_rects``) gets the static
        # layer restored only there, unless something else changed the canvas: a new
        # static layer, or an overlay drawn last frame. The canvas (the window surface,
        # or the rotation canvas) keeps its pixels between frames, so this saves most of
        # a full-screen blit (~0.4 ms at 1280x720 here, more on a Pi).
        # AppOptions.full_redraw turns it off for a display that loses its pixels. After a
        # whole restore ``redraw`` forgets what the live parts showed, so a scene that
        # repaints only what changed paints everything again.
        redraw = self.redraw
        live_rects = getattr(scene, "live_rects", None)
        rects = None
        if not (self.options.full_redraw or redraw.overlay_drawn or redraw.static_changed):
            rects = live_rects(session) if live_rects is not None else None
        if rects is None:
            canvas.blit(self._static, (0, 0))
            redraw.restored()
        else:
            for rect in rects:
                canvas.blit(self._static, rect, rect)
        redraw.canvas_changed = rects is None or bool(rects)
        redraw.static_changed = False
        scene.draw_dynamic(canvas, session, now)
        if not scene.repaints_only_changes:
            redraw.painted_afresh()
        overlay = False
        if self._pressed is not None and self._pressed.on_tap is not None:
            draw.button(canvas, self.cache, self._pressed, self.metrics.body_px, pressed=True)
            overlay = True
        if session.board_lost:
            chrome.draw_banner(canvas, self.cache, session, scene.frame, self.metrics, self._chrome)
            overlay = True
        if session.messages.message is not None:
            chrome.draw_message(canvas, self.cache, session, scene.frame, self.metrics)
            overlay = True
        left = session.idle_countdown(now)
        if left is not None:
            chrome.draw_idle_countdown(canvas, self.cache, left, self.metrics)
            overlay = True
        redraw.overlay_drawn = overlay
        if overlay:
            redraw.painted_afresh()

    def _play_cues(self, now: float) -> None:
        cues = self.session.messages.drain_cues()
        if not self.session.settings.sound_enabled:
            return
        for cue in cues:
            if cue == "recognised":
                if now - self._last_recognised_sound < RECOGNISED_SOUND_GAP_S:
                    continue
                self._last_recognised_sound = now
            self.sounds.play(cue)

    def screenshot(self, path: str) -> None:
        pygame.image.save(self.window, path)

    def close(self) -> None:
        self.collector.stop()
        pygame.display.quit()


def _far(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] - b[0]) > CORNER_SLOP_PX or abs(a[1] - b[1]) > CORNER_SLOP_PX
