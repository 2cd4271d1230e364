"""The visitor's model as a readable MicroPython ``main.py`` for their own micro:bit.

The program does on the board what the kiosk does live: it reads the
accelerometer at the kiosk's rate, keeps the kiosk's one-second window,
computes micro:bit CreateAI's 24 features (``kiosk.ml.features``: 8 filters
x 3 axes, the same definitions and quirks), runs the trained network (the
kiosk's scaling is already folded into its first layer, see
``NetworkClassifier``) and shows the recognised move's icon by CreateAI's rule
(``kiosk.ml.predictor.detect_action``: the move whose confidence beats its
threshold by the most).

Generated as plain Python a curious visitor can read: the numbers are lists,
the features are loops, nothing is packed. The network is written with the
shortest decimals that give back its float32 weights, so MicroPython on a V2
(float32) holds exactly the kiosk's weights and CPython (float64) is within
float32 rounding of the TFLite model; ``tests/ml/test_microbit_model.py`` runs
this file under CPython with a stand-in ``microbit`` module and compares.

It targets micro:bit V2: the V2 runtime samples with ``run_every`` while the
model thinks, and the network needs the V2's memory (V1's heap of about 10 kB
cannot hold it). On a runtime without ``run_every`` the loop samples between
predictions, which keeps the program runnable there for a small network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kiosk.errors import KioskError
from kiosk.ml.features import (
    AXES,
    FEATURE_NAMES,
    FILTER_NAMES,
    PEAK_INFLUENCE,
    PEAK_LAG,
    PEAK_MIN_DIFF,
    PEAK_THRESHOLD,
)
from kiosk.ml.network import DenseNetwork
from kiosk.ml.windows import CURRENT_WINDOW, DataWindow

#: The board the program is for: the network does not fit a V1's heap (about 10 kB).
BOARD_VERSION = 2

#: A 5x5 LED picture, rows top first, True where lit (``kiosk.session.presets.icon_cells``).
Cells = Sequence[Sequence[bool]]


class ModelExportError(KioskError):
    """The model cannot be written as a micro:bit program."""


@dataclass(frozen=True)
class Move:
    """One move as the board shows it."""

    name: str
    icon: Cells  # 5x5 lit cells
    threshold: float  # confidence it needs to count as recognised (CreateAI's 0.8 by default)


def image_text(cells: Cells) -> str:
    """A micro:bit ``Image`` string ("09090:...") for a 5x5 picture."""
    rows = [list(row) for row in cells]
    if len(rows) != 5 or any(len(row) != 5 for row in rows):
        raise ModelExportError("a micro:bit icon is 5 by 5 lights")
    return ":".join("".join("9" if lit else "0" for lit in row) for row in rows)


def number(value: float) -> str:
    """The shortest decimal that gives back ``value`` as a float32 (what the V2 computes in)."""
    single = np.float32(value)
    if single == 0:
        return "0"
    if 1e-4 <= abs(single) < 1e6:
        return np.format_float_positional(single, unique=True, trim="-")
    return np.format_float_scientific(single, unique=True, trim="-")


def main_py(network: DenseNetwork, moves: Sequence[Move], window: DataWindow) -> str:
    """The whole ``main.py``: see the module docstring."""
    if window != CURRENT_WINDOW or network.info.window != window.name:
        raise ModelExportError(
            "only a model of the kiosk's live window (990 ms at 20 ms) can go on a micro:bit"
        )
    if tuple(network.info.feature_names) != FEATURE_NAMES:
        raise ModelExportError("the model does not take the kiosk's 24 features")
    if len(moves) != network.n_out:
        raise ModelExportError(f"the model knows {network.n_out} moves but {len(moves)} were given")
    names = [move.name for move in moves]
    if names != list(network.info.classes):
        raise ModelExportError("the moves are not the model's, in the model's order")
    samples = window.duration_ms // window.device_period_ms + 1
    parts = [
        _HEADER.format(
            moves=", ".join(_escaped(name) for name in names),
            layers=" -> ".join(
                [str(network.n_in)]
                + [f"{layer.n_out} {layer.activation}" for layer in network.layers]
            ),
        ),
        "MOVES = [" + ", ".join(_quoted(name) for name in names) + "]",
        "ICONS = [\n"
        + "".join(
            f'    Image("{image_text(move.icon)}"),  # {_escaped(move.name)}\n' for move in moves
        )
        + "]",
        "THRESHOLDS = [" + ", ".join(number(move.threshold) for move in moves) + "]",
        "",
        f"PERIOD_MS = {window.device_period_ms}  # one reading every 20 ms, as the kiosk asks",
        f"WINDOW_SAMPLES = {samples}  # the newest {window.duration_ms} ms of readings",
        f"MIN_SAMPLES = {window.min_samples}  # fewer readings than this: no answer yet",
        f"NOMINAL_SAMPLES = {window.nominal_samples}  # scales the acc feature, as CreateAI does",
        "",
        "# The features, in the order the network takes them: each filter on x, y, z.",
        "FILTERS = [" + ", ".join(_quoted(name) for name in FILTER_NAMES) + "]",
        _network_text(network),
        _BODY.format(
            lag=PEAK_LAG,
            threshold=number(PEAK_THRESHOLD),
            influence=number(PEAK_INFLUENCE),
            min_diff=number(PEAK_MIN_DIFF),
            axes=len(AXES),
        ),
    ]
    return "\n".join(parts)


def _escaped(text: str) -> str:
    """``text`` in printable ASCII with Python's escapes: it can end neither a string nor a
    comment (a name with a newline or a quote stays one name), and reads the same anywhere."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code <= 0x7E:
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def _quoted(text: str) -> str:
    return '"' + _escaped(text) + '"'


def _network_text(network: DenseNetwork) -> str:
    lines = [
        "",
        "# The trained network, layer by layer: (weights, bias, activation), where",
        "# weights[i] holds input i's weight to every output. The kiosk's scaling of",
        "# the features is already folded into the first layer: features go in as they are.",
        "LAYERS = [",
    ]
    for number_, layer in enumerate(network.layers, start=1):
        lines.append(
            f"    (  # layer {number_}: {layer.n_in} inputs -> {layer.n_out} outputs, "
            f"{layer.activation}"
        )
        lines.append("        [")
        for i, row in enumerate(layer.weights.tolist()):
            # The first layer's inputs are the features: name each row after its feature.
            what = FEATURE_NAMES[i] if number_ == 1 else f"unit {i + 1}"
            lines.append("            [" + ", ".join(number(w) for w in row) + f"],  # {what}")
        lines.append("        ],")
        lines.append("        [" + ", ".join(number(b) for b in layer.bias.tolist()) + "],")
        lines.append(f'        "{layer.activation}",')
        lines.append("    ),")
    lines.append("]")
    return "\n".join(lines)


_HEADER = """\
# My model from the micro:bit ML kiosk.
#
# It recognises: {moves}.
# Move your micro:bit: it shows the picture of the move it recognises.
# Network: {layers}.
#
# How it works: every 20 ms it reads the accelerometer; the newest second of
# readings becomes 24 numbers (8 filters on each of x, y, z: the same
# "fingerprint" the kiosk and micro:bit CreateAI compute); the network turns
# them into a confidence for each move; a move is recognised when its
# confidence reaches its threshold. It needs a micro:bit V2.
import math

import microbit
from microbit import Image, accelerometer, display, sleep
"""

_BODY = '''

samples = []  # the newest readings (x, y, z in g), oldest first
taken = 0  # readings so far


def read_sample(*_):
    """Read the accelerometer (milli-g) into the window."""
    global taken
    x, y, z = accelerometer.get_values()
    samples.append((x / 1000, y / 1000, z / 1000))
    if len(samples) > WINDOW_SAMPLES:
        samples.pop(0)
    taken += 1


def count_peaks(values):
    """CreateAI's peak count: a z-score detector over the last {lag} filtered points."""
    lag = {lag}
    filtered = values[0:lag]
    # The first point after the lead-in is compared with the lead-in's mean,
    # which CreateAI also uses where its standard deviation should be.
    mean = ((((filtered[0] + filtered[1]) + filtered[2]) + filtered[3]) + filtered[4]) / lag
    difference = values[lag] - mean
    count = 0
    previous = False
    if abs(difference) > {min_diff} and abs(difference) > {threshold} * mean:
        if difference > 0:
            count = 1
        previous = True
        filtered.append({influence} * values[lag] + (1 - {influence}) * filtered[-1])
    else:
        filtered.append(values[lag])
    for j in range(lag + 1, len(values)):
        value = values[j]
        recent = filtered[j - lag - 1 : j - 1]  # the filter lags one point behind
        mean = ((((recent[0] + recent[1]) + recent[2]) + recent[3]) + recent[4]) / lag
        difference = value - mean
        signal = 0
        if abs(difference) > {min_diff}:
            spread = 0.0
            for point in recent:
                spread += (point - mean) * (point - mean)
            if abs(difference) > {threshold} * math.sqrt(spread / lag):
                signal = 1 if difference > 0 else -1
        if signal:
            if signal > 0 and not previous:
                count += 1
            previous = True
            filtered.append({influence} * value + (1 - {influence}) * filtered[-1])
        else:
            previous = False
            filtered.append(value)
    return count


def axis_filters(values):
    """The 8 filters of one axis, in FILTERS order."""
    n = len(values)
    total = 0.0
    absolute = 0.0
    squares = 0.0
    crossings = 0
    for i in range(n):
        value = values[i]
        total += value
        absolute += abs(value)
        squares += value * value
        if i and (value < 0) != (values[i - 1] < 0):
            crossings += 1
    mean = total / n
    spread = 0.0
    for value in values:
        spread += (value - mean) * (value - mean)
    return [
        max(values),  # max
        mean,  # mean
        min(values),  # min
        math.sqrt(spread / n),  # std (of the whole window, not a sample)
        count_peaks(values),  # peaks
        absolute * NOMINAL_SAMPLES / n,  # acc: mean size, scaled as CreateAI does
        crossings / (n - 1),  # zcr: how often it crosses zero
        math.sqrt(squares / n),  # rms
    ]


def features(window):
    """The 24 features: each filter on x, y and z."""
    per_axis = [axis_filters([sample[axis] for sample in window]) for axis in range({axes})]
    return [per_axis[axis][f] for f in range(len(FILTERS)) for axis in range({axes})]


def predict(inputs):
    """The network: a confidence (0 to 1) for each move."""
    values = inputs
    for weights, bias, activation in LAYERS:
        outputs = list(bias)
        for i in range(len(values)):
            value = values[i]
            row = weights[i]
            for j in range(len(outputs)):
                outputs[j] += value * row[j]
        if activation == "relu":
            outputs = [max(output, 0.0) for output in outputs]
        elif activation == "softmax":
            top = max(outputs)
            outputs = [math.exp(output - top) for output in outputs]
            total = sum(outputs)
            outputs = [output / total for output in outputs]
        values = outputs
    return values


def recognised(confidences):
    """The move whose confidence beats its threshold by the most (a tie: the later), or None."""
    best = None
    for move in range(len(confidences)):
        margin = confidences[move] - THRESHOLDS[move]
        if margin >= 0 and (best is None or margin >= confidences[best] - THRESHOLDS[best]):
            best = move
    return best


def show(move):
    if move is None:
        display.clear()
    else:
        display.show(ICONS[move])
        print(MOVES[move])  # also on the USB serial port, for a computer to read


def main():
    display.clear()
    print("ready: " + ", ".join(MOVES))
    every = getattr(microbit, "run_every", None)
    if every is not None:
        every(read_sample, ms=PERIOD_MS)  # readings keep their pace while the model thinks
    seen = 0
    shown = None
    while True:
        if every is None:
            read_sample()  # no run_every (an old runtime): read between answers
            sleep(PERIOD_MS)
        elif taken == seen:
            sleep(1)
            continue
        seen = taken
        window = samples[:]
        if len(window) < MIN_SAMPLES:
            continue
        move = recognised(predict(features(window)))
        if move != shown:
            show(move)
            shown = move


if __name__ == "__main__":
    main()
'''
