"""Run a kiosk ``.tflite`` model in the TFLite interpreter, fast enough for every sample at 50 Hz.

The interpreter comes from ``tflite-runtime`` on Python <= 3.11 and from
``ai-edge-litert`` (the same interpreter, renamed) on newer Pythons; this module
picks whichever is installed. A classifier checks the model bytes (a damaged
file would crash the runtime, see ``kiosk.ml.tflite_writer.check_model``),
allocates its tensors once, and for one window does only set_tensor, invoke,
get_tensor through bound methods: about 2-10 us a call here, against 0.1-0.5 ms
for scikit-learn's ``predict_proba`` on the same network (``bench_runtime``).
"""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.errors import DatasetFormatError, KioskError
from kiosk.ml.network import ModelInfo
from kiosk.ml.tflite_writer import read_model_info

# Tried in order: the first importable one wins.
_INTERPRETER_MODULES = ("tflite_runtime.interpreter", "ai_edge_litert.interpreter")


def load_interpreter_class() -> type:
    """TFLite's ``Interpreter`` class from tflite-runtime or ai-edge-litert."""
    for name in _INTERPRETER_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        return module.Interpreter
    raise KioskError(
        "no TFLite runtime is installed: install 'tflite-runtime' (Python <= 3.11) "
        "or 'ai-edge-litert' (Python >= 3.12) into the kiosk's virtualenv"
    )


class TFLiteClassifier:
    """Probabilities for 24-feature windows from a model written by ``network_to_tflite``."""

    info: ModelInfo
    is_int8: bool

    def __init__(self, model_bytes: bytes, info: ModelInfo) -> None:
        interpreter_class = load_interpreter_class()
        try:
            # One thread: the model is a few hundred multiply-adds; threads only add latency.
            self._interpreter = interpreter_class(model_content=bytes(model_bytes), num_threads=1)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise DatasetFormatError(f"the TFLite runtime cannot load the model: {error}") from None
        inputs = self._interpreter.get_input_details()
        outputs = self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise DatasetFormatError("the model must have exactly one input and one output")
        n_in = len(info.feature_names)
        n_out = len(info.classes)
        if tuple(inputs[0]["shape"]) != (1, n_in) or tuple(outputs[0]["shape"]) != (1, n_out):
            raise DatasetFormatError(
                f"the model's tensors ({inputs[0]['shape']} -> {outputs[0]['shape']}) do not "
                f"match its description ({n_in} features -> {n_out} classes)"
            )
        if inputs[0]["dtype"] != np.float32 or outputs[0]["dtype"] != np.float32:
            raise DatasetFormatError("the model must take and give float32 values")
        self.info = info
        self.is_int8 = any(
            detail["dtype"] == np.int8 for detail in self._interpreter.get_tensor_details()
        )
        self._n_in = n_in
        self._n_out = n_out
        # Bound methods and indices kept so the hot path does no lookups. Measured:
        # set_tensor/get_tensor beat writing through ``interpreter.tensor()`` views,
        # whose per-call view creation costs more than the 24-value copy.
        self._input_index = inputs[0]["index"]
        self._output_index = outputs[0]["index"]
        self._set = self._interpreter.set_tensor
        self._get = self._interpreter.get_tensor
        self._invoke = self._interpreter.invoke
        # An interpreter must not run two invocations at once; this lock lets the one
        # classifier made after training serve the prediction thread and anyone else
        # (a slow-to-stop old thread, the explanations) without a second interpreter.
        # Uncontended, it costs well under a microsecond against a 2-10 us invoke.
        self._lock = threading.Lock()

    @classmethod
    def from_bytes(cls, model_bytes: bytes) -> TFLiteClassifier:
        """A classifier for a model held in memory (e.g. from the store)."""
        return cls(model_bytes, read_model_info(model_bytes))

    @classmethod
    def from_path(cls, path: str | Path) -> TFLiteClassifier:
        """A classifier for a ``.tflite`` file."""
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise DatasetFormatError(f"cannot read model file {path}: {error.strerror}") from None
        return cls.from_bytes(data)

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """(n_in,) -> (k,) or (m, n_in) -> (m, k) float32 probabilities, ``info.classes`` order."""
        x = np.asarray(features, dtype=np.float32)
        if x.shape == (self._n_in,):
            return self._one(x)
        if x.ndim != 2 or x.shape[1] != self._n_in:
            raise ValueError(
                f"expected features of shape ({self._n_in},) or (m, {self._n_in}), got {x.shape}"
            )
        # Row by row through the same batch-1 interpreter: a window gets the same
        # probabilities alone or in a batch, and the allocation never changes.
        result = np.empty((x.shape[0], self._n_out), dtype=np.float32)
        for row, values in enumerate(x):
            result[row] = self._one(values)
        return result

    def _one(self, x: np.ndarray) -> np.ndarray:
        with self._lock:
            self._set(self._input_index, x.reshape(1, self._n_in))
            self._invoke()
            return self._get(self._output_index)[0]  # get_tensor already returns a copy


def bench_runtime(
    classifier: TFLiteClassifier | None = None,
    baseline: Any | None = None,
    *,
    repeats: int = 2000,
) -> dict[str, float]:
    """Per-call time of ``predict_proba`` on one window, against a baseline's ``predict_proba``.

    ``classifier`` and ``baseline`` (any object with ``predict_proba``, e.g. the
    scikit-learn model the TFLite file was made from) may be given; without
    them a small random network of the kiosk's shape (24 -> 16 ReLU -> 3
    softmax) is built, written, loaded, and compared with an equivalent
    scikit-learn ``MLPClassifier``. Returns milliseconds per call (median of
    blocks) and the ratio baseline / tflite.
    """
    window = None
    if classifier is None:
        classifier, baseline, window = _bench_models()
    if window is None:
        window = np.linspace(-1.0, 1.0, len(classifier.info.feature_names), dtype=np.float32)
    result = {"tflite_predict_ms": _per_call_ms(classifier.predict_proba, window, repeats)}
    if baseline is not None:
        rows = window.reshape(1, -1).astype(np.float64)
        sklearn_ms = _per_call_ms(baseline.predict_proba, rows, max(repeats // 10, 50))
        result["sklearn_predict_ms"] = sklearn_ms
        result["sklearn_over_tflite"] = sklearn_ms / result["tflite_predict_ms"]
    return result


def _per_call_ms(function: Any, argument: np.ndarray, repeats: int) -> float:
    for _ in range(min(repeats, 100)):  # warm caches and lazy setup
        function(argument)
    blocks = []
    block = max(repeats // 10, 1)
    for _ in range(10):
        start = time.perf_counter()
        for _ in range(block):
            function(argument)
        blocks.append((time.perf_counter() - start) / block)
    return float(np.median(blocks) * 1e3)


def _bench_models() -> tuple[TFLiteClassifier, Any, np.ndarray]:
    """A kiosk-shaped model in TFLite and in scikit-learn, with identical weights."""
    from sklearn.neural_network import MLPClassifier

    from kiosk.ml.network import DenseLayer, DenseNetwork
    from kiosk.ml.tflite_writer import network_to_tflite

    rng = np.random.default_rng(0)
    n_in, n_hidden, classes = 24, 16, ("one", "two", "three")
    x = rng.normal(size=(30, n_in))
    y = np.arange(30) % len(classes)
    # A short fit just to give scikit-learn its fitted state; the weights are then shared.
    mlp = MLPClassifier(hidden_layer_sizes=(n_hidden,), max_iter=5, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(x, y)
    info = ModelInfo(classes, "current", tuple(f"f{i}" for i in range(n_in)))
    network = DenseNetwork(
        (
            DenseLayer(mlp.coefs_[0], mlp.intercepts_[0], "relu"),
            DenseLayer(mlp.coefs_[1], mlp.intercepts_[1], "softmax"),
        ),
        info,
    )
    classifier = TFLiteClassifier.from_bytes(network_to_tflite(network))
    return classifier, mlp, x[0].astype(np.float32)
