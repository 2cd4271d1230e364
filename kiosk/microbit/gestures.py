"""Synthetic accelerometer gestures, as a micro:bit in a visitor's hand would report them.

The demo mode, the scripted walk-through and the tests need a board that
"makes" a gesture on demand. Each gesture is generated one repetition at a time
(about 1-1.6 s) with its own random amplitude, frequency, phase and board
orientation, so two repetitions differ the way two visitors' shakes do and a
classifier trained on them is good but not trivially perfect. Values are in g,
with sensor noise, quantised to 1 milli-g like the board's int16 payload, and
clipped at +-2.048 g like the real accelerometer's range.

The shapes follow what CreateAI's features see on real recordings (see
``/work/shared/data/createai``): ``still`` is gravity on one axis with tiny
noise; ``shake`` big fast swings that clip; ``circle`` phase-shifted sinusoids
on x and y; ``wave`` a slower, large swing on one axis; ``tilt`` a slow
rotation of the gravity vector; ``clap`` sharp spikes between quiet moments
(hands meet, then part); ``jump`` a dip, a push up, a moment of weightlessness
and a hard landing along the body's up-down axis; ``spin`` a steady outward
pull while the visitor turns round, with the stride's bounce; ``none`` a
board simply held in the hand (slow wander, tremor).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The accelerometer's range on a micro:bit (the ±2 g setting), in g.
FULL_SCALE_G = 2.048

#: Gesture names a simulated board can make, in the order the demo offers them.
GESTURES: tuple[str, ...] = (
    "still",
    "shake",
    "circle",
    "wave",
    "tilt",
    "clap",
    "jump",
    "spin",
    "none",
)

# (rng, times in s, how the board is held as a rotation matrix) -> (n, 3) in g
_Generator = Callable[[np.random.Generator, np.ndarray, np.ndarray], np.ndarray]


def _rotation(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    """A random rotation of at most ``max_deg`` about each axis (how the board is held)."""
    ax, ay, az = np.radians(rng.uniform(-max_deg, max_deg, 3))
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float, keep: float) -> np.ndarray:
    """(n, 3) first-order low-passed noise: hand tremor rather than white sensor noise."""
    white = rng.normal(0.0, sigma, (n, 3))
    out = np.empty_like(white)
    acc = np.zeros(3)
    for i in range(n):  # n is ~50-80: a loop is clearer than scipy.signal.lfilter here
        acc = keep * acc + (1.0 - keep) * white[i]
        out[i] = acc
    return out / max(np.sqrt((1.0 - keep) / (1.0 + keep)), 1e-9)


# Gravity as the board reports it: lying face up on a table z = -1 g; held in a
# hand, tilted towards the visitor, mostly -z with some -y; held up to look at, more -y.
_FLAT = np.array([0.0, 0.0, -1.0])
_IN_HAND = np.array([0.0, -0.35, -0.94])
_UPRIGHT = np.array([0.0, -0.8, -0.6])


def _still(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    gravity = rot @ _FLAT
    return gravity + rng.normal(0.0, 0.006, (len(t), 3))


def _none(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    # held up facing the visitor, doing nothing in particular: drifts and trembles
    f = rng.uniform(0.3, 0.8)
    wander = np.radians(rng.uniform(4.0, 10.0)) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
    gravity = np.stack([np.sin(wander), _UPRIGHT[1] * np.cos(wander), _UPRIGHT[2] * np.cos(wander)])
    return (rot @ gravity).T + _smooth_noise(rng, len(t), 0.035, 0.6)


def _shake(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    f = rng.uniform(4.0, 7.0)
    amp = rng.uniform(1.4, 2.8) if rng.random() > 0.1 else rng.uniform(0.8, 1.3)  # a lazy shake
    phase = rng.uniform(0, 2 * np.pi, 3)
    main = amp * (np.sin(2 * np.pi * f * t + phase[0]) + 0.3 * np.sin(4 * np.pi * f * t + phase[1]))
    side = 0.35 * amp * np.sin(2 * np.pi * f * t + phase[2])
    motion = np.stack([main, side, 0.2 * side])
    return (rot @ (motion + _IN_HAND[:, None])).T + rng.normal(0.0, 0.05, (len(t), 3))


def _circle(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    f = rng.uniform(0.9, 1.6)
    amp = rng.uniform(0.35, 0.8)
    ellipse = rng.uniform(0.7, 1.2)
    direction = rng.choice((-1.0, 1.0))
    phase = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
    motion = np.stack([amp * np.cos(phase), direction * ellipse * amp * np.sin(phase), 0 * t])
    return (rot @ (motion + _FLAT[:, None])).T + rng.normal(0.0, 0.02, (len(t), 3))


def _wave(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    f = rng.uniform(1.4, 2.4)
    amp = rng.uniform(1.0, 2.2)
    phase = 2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)
    roll = np.radians(rng.uniform(10, 25)) * np.sin(phase)  # the wrist turns as the hand swings
    gravity = np.stack([np.sin(roll) * 0.6, 0 * t, -np.cos(roll) * 0.6])
    motion = np.stack([0 * t, amp * np.sin(phase), 0.15 * amp * np.cos(phase)])
    return (rot @ (gravity + motion)).T + rng.normal(0.0, 0.03, (len(t), 3))


def _tilt(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    f = rng.uniform(0.4, 0.8)
    sweep = np.radians(rng.uniform(40, 70))
    theta = sweep * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    gravity = np.stack([np.sin(theta), 0 * t, -np.cos(theta)])  # rolling left and right
    return (rot @ gravity).T + _smooth_noise(rng, len(t), 0.012, 0.5)


def _clap(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    # The board in one hand, clapping against the other: a hard, short jolt along z at each
    # clap and an almost still hand between claps (unlike a shake, which never rests).
    f = rng.uniform(1.6, 2.4)
    first = rng.uniform(0.05, 0.3)
    swing = 0.12 * np.sin(2 * np.pi * f * (t - first) - np.pi / 2)
    motion = np.stack([0.2 * swing, 0.2 * swing, swing])
    for clap_t in np.arange(first, t[-1] + 1e-9, 1.0 / f):
        after = np.clip(t - clap_t, 0.0, None)
        ring = np.where(t >= clap_t, np.exp(-after / 0.03) * np.cos(2 * np.pi * 6.0 * after), 0.0)
        motion += np.outer(rng.uniform(2.5, 4.0) * np.array([0.15, 0.1, 1.0]), ring)
    return (rot @ (motion + _IN_HAND[:, None])).T + rng.normal(0.0, 0.02, (len(t), 3))


def _jump(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    # Held against the chest: a dip (crouch), a hard push up, about 0.3 s of falling
    # (the board reads nearly 0 g), then the landing's jolt and a settle. Along -y, the
    # body's up-down axis for a board held upright.
    start = rng.uniform(0.05, 0.25)
    air = rng.uniform(0.25, 0.4)
    push = rng.uniform(1.2, 1.9)
    land = rng.uniform(1.8, 2.8)
    load = np.ones_like(t)  # how many g the body feels along its up-down axis
    dip = (t >= start) & (t < start + 0.2)
    load[dip] = 1.0 - 0.5 * np.sin(np.pi * (t[dip] - start) / 0.2)
    up = (t >= start + 0.2) & (t < start + 0.35)
    load[up] = 1.0 + push * np.sin(np.pi * (t[up] - start - 0.2) / 0.15)
    flying = (t >= start + 0.35) & (t < start + 0.35 + air)
    load[flying] = 0.05
    after = t - (start + 0.35 + air)
    landed = after >= 0
    load[landed] = 1.0 + land * np.exp(-after[landed] / 0.06) * np.cos(
        2 * np.pi * 4.0 * after[landed]
    )
    gravity = _UPRIGHT[:, None] * load[None, :]
    return (rot @ gravity).T + _smooth_noise(rng, len(t), 0.04, 0.5)


def _spin(rng: np.random.Generator, t: np.ndarray, rot: np.ndarray) -> np.ndarray:
    # Held out at arm's length while the visitor turns round: a steady pull outwards
    # (along x), the stride's bounce up and down, and gravity on z.
    pull = rng.uniform(0.8, 1.2)
    stride = rng.uniform(1.6, 2.4)
    bounce = rng.uniform(0.1, 0.25) * np.sin(2 * np.pi * stride * t + rng.uniform(0, 2 * np.pi))
    sway = 0.15 * np.sin(2 * np.pi * stride / 2 * t + rng.uniform(0, 2 * np.pi))
    motion = np.stack([pull + sway, 0.2 * sway, bounce])
    return (rot @ (motion + _FLAT[:, None])).T + _smooth_noise(rng, len(t), 0.03, 0.5)


#: How far (degrees about each axis) the board's orientation varies between visitors.
_HOLD_DEGREES = {
    "still": 12.0,
    "none": 25.0,
    "shake": 20.0,
    "circle": 20.0,
    "wave": 15.0,
    "tilt": 15.0,
    "clap": 20.0,
    "jump": 15.0,
    "spin": 15.0,
}
#: How far it wobbles between repetitions of one gesture (a board on a table hardly moves).
_WOBBLE_DEGREES = {name: 4.0 for name in _HOLD_DEGREES} | {"still": 0.3}

_GENERATORS: dict[str, _Generator] = {
    "still": _still,
    "none": _none,
    "shake": _shake,
    "circle": _circle,
    "wave": _wave,
    "tilt": _tilt,
    "clap": _clap,
    "jump": _jump,
    "spin": _spin,
}


def check_gesture(name: str) -> str:
    """The gesture's canonical name; ValueError naming the choices if it is unknown."""
    key = name.strip().lower()
    if key not in _GENERATORS:
        raise ValueError(f"unknown gesture {name!r}; choose one of {', '.join(GESTURES)}")
    return key


def finish(samples: np.ndarray) -> np.ndarray:
    """What the board would send: quantised to milli-g and clipped to the sensor's range."""
    return np.clip(np.round(samples * 1000.0) / 1000.0, -FULL_SCALE_G, FULL_SCALE_G)


def holding(name: str, rng: np.random.Generator) -> np.ndarray:
    """A random way of holding the board for this gesture (a 3x3 rotation matrix)."""
    return _rotation(rng, _HOLD_DEGREES[check_gesture(name)])


def repetition(
    name: str,
    rng: np.random.Generator,
    n_samples: int,
    rate_hz: float = 50.0,
    hold: np.ndarray | None = None,
) -> np.ndarray:
    """One repetition of a gesture: (n_samples, 3) in g, noise added, not yet clipped.

    ``hold`` is how the board is held (see ``holding``); each repetition wobbles
    a few degrees around it, as a hand does. Without it a new hold is drawn.
    """
    key = check_gesture(name)
    base = holding(key, rng) if hold is None else hold
    t = np.arange(n_samples) / rate_hz
    return _GENERATORS[key](rng, t, base @ _rotation(rng, _WOBBLE_DEGREES[key]))


def synthesize(name: str, seconds: float = 1.0, seed: int = 0, rate_hz: float = 50.0) -> np.ndarray:
    """A ready-made recording of one gesture, (round(seconds * rate_hz), 3) in g (deterministic)."""
    n = max(round(seconds * rate_hz), 1)
    return finish(repetition(name, np.random.default_rng(seed), n, rate_hz))


class GestureStream:
    """An endless, deterministic stream of one gesture after another, as a board makes them.

    Each repetition lasts 1.0-1.6 s and has its own random amplitude, frequency
    and phase, and wobbles a few degrees around the way the board is held for
    that gesture; the start of a repetition is blended into the end of the
    previous one so the live graph has no jumps. ``set_gesture`` takes effect at
    the next sample.

    The hold is drawn once per gesture and kept: a visitor who records a shake
    and later tests it holds the board the same way both times. (Redrawing it at
    every ``set_gesture`` turned the board up to 20 degrees between recording
    and testing, which no model trained on a handful of recordings can follow,
    and made live recognition fail while the cross-validated accuracy was
    perfect.) Another stream (another seed) is another visitor with other holds.
    """

    def __init__(self, gesture: str = "still", seed: int = 0, rate_hz: float = 50.0) -> None:
        self._rng = np.random.default_rng(seed)
        self._rate = rate_hz
        self._gesture = check_gesture(gesture)
        self._holds: dict[str, np.ndarray] = {}
        self._hold = self._hold_for(self._gesture)
        self._pending = np.zeros((0, 3))
        self._last: np.ndarray | None = None

    @property
    def gesture(self) -> str:
        return self._gesture

    def set_gesture(self, name: str) -> None:
        self._gesture = check_gesture(name)
        self._hold = self._hold_for(self._gesture)
        self._pending = np.zeros((0, 3))  # the board changes what it does at once

    def _hold_for(self, gesture: str) -> np.ndarray:
        """How this visitor holds the board for ``gesture`` (drawn on first use, then kept)."""
        hold = self._holds.get(gesture)
        if hold is None:
            hold = self._holds[gesture] = holding(gesture, self._rng)
        return hold

    def take(self, n: int) -> np.ndarray:
        """The next ``n`` samples, (n, 3) in g, quantised and clipped."""
        parts = []
        have = 0
        while have < n:
            if len(self._pending) == 0:
                self._pending = self._next_repetition()
            part = self._pending[: n - have]
            self._pending = self._pending[len(part) :]
            parts.append(part)
            have += len(part)
        out = np.concatenate(parts) if parts else np.zeros((0, 3))
        if len(out):
            self._last = out[-1]
        return finish(out)

    def _next_repetition(self) -> np.ndarray:
        n = round(self._rng.uniform(1.0, 1.6) * self._rate)
        rep = repetition(self._gesture, self._rng, n, self._rate, self._hold)
        if self._last is not None:
            # fade the step between repetitions out over ~0.16 s
            k = min(8, n)
            fade = (1.0 - np.arange(k) / k)[:, None]
            rep[:k] += (self._last - rep[0]) * fade
        return rep
