"""Short sounds synthesised with numpy at start-up (no sound files to ship or lose).

Each cue the session raises ("count", "done", "recognised", ...) maps to a
few notes with soft attack and decay. Without an audio device (a headless
test, a box with no speaker) sounds are silently skipped.
"""

from __future__ import annotations

import logging

import numpy as np
import pygame

log = logging.getLogger(__name__)

RATE = 22050

# cue -> (frequency Hz, seconds) notes played one after another
CUES: dict[str, tuple[tuple[float, float], ...]] = {
    "count": ((660.0, 0.08),),
    "done": ((660.0, 0.07), (990.0, 0.1)),
    "good": ((523.0, 0.08), (784.0, 0.12)),
    "recognised": ((523.0, 0.06), (659.0, 0.06), (784.0, 0.12)),
    "trained": ((523.0, 0.09), (659.0, 0.09), (784.0, 0.09), (1047.0, 0.18)),
    "problem": ((220.0, 0.16), (196.0, 0.2)),
}


def synthesise(
    notes: tuple[tuple[float, float], ...], volume: float, rate: int = RATE
) -> np.ndarray:
    """int16 mono samples for ``notes``: sine plus a little second harmonic, enveloped."""
    parts = []
    for frequency, seconds in notes:
        t = np.arange(int(rate * seconds)) / rate
        wave = np.sin(2 * np.pi * frequency * t) + 0.25 * np.sin(4 * np.pi * frequency * t)
        attack = np.minimum(1.0, t / 0.005)
        decay = np.exp(-t / (seconds * 0.6))
        parts.append(wave * attack * decay / 1.25)
    samples = np.concatenate(parts) if parts else np.zeros(1)
    return (np.clip(samples * volume, -1.0, 1.0) * 32767).astype(np.int16)


class Sounds:
    def __init__(self, volume: float = 0.6) -> None:
        self._sounds: dict[str, pygame.mixer.Sound] = {}
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=RATE, size=-16, channels=1, buffer=512)
            _, _, channels = pygame.mixer.get_init()
        except pygame.error as error:
            log.info("no sound: %s", error)
            return
        for name, notes in CUES.items():
            mono = synthesise(notes, volume)
            samples = mono if channels == 1 else np.repeat(mono[:, None], channels, axis=1)
            self._sounds[name] = pygame.sndarray.make_sound(np.ascontiguousarray(samples))

    @property
    def available(self) -> bool:
        return bool(self._sounds)

    def play(self, cue: str) -> None:
        sound = self._sounds.get(cue)
        if sound is not None:
            sound.play()
