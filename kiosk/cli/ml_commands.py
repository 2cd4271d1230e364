"""``kiosk features | evaluate | train | export-model | predict``: the ML core on CreateAI files.

These let a person (or CI) check the kiosk against CreateAI's own numbers
without the touchscreen: compute the 24 features of every recording, measure
accuracy with a test file, fixed folds or cross validation, train and write a
``.tflite`` model, and run a model file on recordings through the TFLite
runtime. ``--json`` prints one JSON object. Bad files raise ``KioskError``
subclasses, which the dispatcher prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.dataset import Dataset
from kiosk.errors import DatasetFormatError
from kiosk.ml.evaluation import (
    Evaluation,
    NotEnoughRecordingsError,
    cross_validate,
    evaluate_folds,
    evaluate_split,
    learning_curve,
)
from kiosk.ml.features import FEATURE_NAMES, feature_matrix
from kiosk.ml.runtime import TFLiteClassifier
from kiosk.ml.training import (
    MODEL_KINDS,
    NetworkClassifier,
    ScaledClassifier,
    make_estimator,
    train_model,
)
from kiosk.ml.windows import CURRENT_WINDOW, DataWindow, choose_window, window_by_name
from kiosk.store.createai_json import load_createai
from kiosk.store.export import write_atomically

MAX_FOLDS_FILE_BYTES = 8 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    features = subparsers.add_parser("features", help="the 24 CreateAI features of each recording")
    features.add_argument("dataset", metavar="DATASET.json")
    features.add_argument("--window", choices=("auto", "current", "legacy"), default="auto")
    features.add_argument("--json", action="store_true", help="print one JSON object")
    features.set_defaults(func=run_features)

    evaluate = subparsers.add_parser("evaluate", help="accuracy and confusion matrix")
    evaluate.add_argument("dataset", metavar="TRAIN.json")
    split = evaluate.add_mutually_exclusive_group()
    split.add_argument("--test", metavar="TEST.json", help="train on TRAIN, test on this file")
    split.add_argument("--folds", metavar="FOLDS.json", help="fixed folds (with --set)")
    split.add_argument(
        "--per-move",
        metavar="K[,K...]",
        type=_per_move_list,
        help="learning curve: per draw exactly K recordings of each move train, the rest test",
    )
    evaluate.add_argument("--set", dest="fold_set", metavar="NAME", help="dataset in FOLDS.json")
    evaluate.add_argument(
        "--draws", type=_positive_int, default=20, metavar="N", help="draws per K (default 20)"
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the draws (default 0)"
    )
    evaluate.add_argument("--model", choices=MODEL_KINDS, default="nn")
    evaluate.add_argument(
        "--prior-recordings",
        type=float,
        default=None,
        metavar="N0",
        help="weight of the scaling's prior, in recordings (default: the kiosk's; "
        "0: plain standardisation)",
    )
    evaluate.add_argument(
        "--alpha",
        type=float,
        default=None,
        metavar="A",
        help="the network's L2 penalty (default: the kiosk's)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(func=run_evaluate)

    train = subparsers.add_parser("train", help="train on all recordings and write a .tflite")
    train.add_argument("dataset", metavar="DATASET.json")
    train.add_argument("--out", required=True, metavar="MODEL.tflite")
    train.add_argument("--int8", action="store_true", help="write an int8-quantised model")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(func=run_train)

    export = subparsers.add_parser(
        "export-model",
        help="train on all recordings and write the model as a micro:bit program",
        description="Train the kiosk's network on every recording (with the kiosk's live "
        "window, as the touchscreen does) and write a micro:bit V2 hex: MicroPython with a "
        "readable main.py that shows the recognised move's icon on the board.",
    )
    export.add_argument("dataset", metavar="DATASET.json", nargs="?", help="a CreateAI file")
    export.add_argument(
        "--project",
        metavar="NAME",
        help="instead of a file: a project in the kiosk's database (the touchscreen's is "
        "'visitor'), with its moves' icons and thresholds",
    )
    export.add_argument("--db", type=Path, metavar="PATH", help="with --project: the database")
    export.add_argument(
        "--microbit", required=True, metavar="OUT.hex", help="the hex file to write"
    )
    export.add_argument(
        "--main-py", metavar="MAIN.py", default=None, help="also write the program on its own"
    )
    export.add_argument("--json", action="store_true", help="print one JSON object")
    export.set_defaults(func=run_export_model)

    predict = subparsers.add_parser("predict", help="run a .tflite model on a dataset's recordings")
    predict.add_argument("model", metavar="MODEL.tflite")
    predict.add_argument("dataset", metavar="DATASET.json")
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(func=run_predict)


def run_features(args: argparse.Namespace) -> int:
    dataset, _ = load_createai(args.dataset)
    window = _window(dataset, args.window)
    X = _features(dataset, window)
    rows = [
        {"action": a, "recording": r, "values": X[i].tolist()}
        for i, (a, r, _) in enumerate(dataset.labelled_recordings())
    ]
    if args.json:
        _print_json({"feature_names": list(FEATURE_NAMES), "window": window.name, "rows": rows})
    else:
        print(f"window {window.name}; {len(rows)} recordings")
        print("action recording " + " ".join(FEATURE_NAMES))
        for row in rows:
            values = " ".join(f"{v:.6g}" for v in row["values"])
            print(f"{row['action']} {row['recording']} {values}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    if args.fold_set and not args.folds:
        raise DatasetFormatError("--set names a set in a folds file; give the file with --folds")
    dataset, _ = load_createai(args.dataset)
    window = _window(dataset, "auto")
    X, y, classes = _features(dataset, window), dataset.labels(), dataset.class_names
    estimator = _estimator(args, classes, window)
    if args.per_move:
        return _run_learning_curve(args, X, y, classes, window, estimator)
    if args.test:
        test, _ = load_createai(args.test)
        y_test = _labels_by_name(test, classes, args.test)
        result = evaluate_split(
            X, y, _features(test, window), y_test, classes, window, estimator=estimator
        )
        protocol = f"train {Path(args.dataset).name} -> test {Path(args.test).name}"
    elif args.folds:
        if not args.fold_set:
            raise DatasetFormatError("--folds needs --set NAME: which dataset's folds to use")
        folds = load_folds(args.folds, args.fold_set, dataset)
        result = evaluate_folds(X, y, classes, window, folds, estimator=estimator)
        protocol = f"{len(folds)} fixed folds from {Path(args.folds).name} ({args.fold_set})"
    else:
        result = cross_validate(X, y, classes, window, estimator=estimator)
        protocol = f"stratified {result.k_folds}-fold cross validation"
    if args.json:
        _print_json({**result.to_json(), "protocol": protocol, "model": args.model})
    else:
        print(f"{protocol}, {args.model}, window {window.name}")
        _print_evaluation(result)
    return 0


def _estimator(
    args: argparse.Namespace, classes: list[str], window: DataWindow
) -> ScaledClassifier:
    estimator = make_estimator(args.model, classes, window)
    if args.prior_recordings is not None:
        if args.prior_recordings < 0:
            raise DatasetFormatError("--prior-recordings must be 0 or more")
        estimator.prior_recordings = args.prior_recordings
    if args.alpha is not None:
        if not isinstance(estimator, NetworkClassifier) or args.alpha < 0:
            raise DatasetFormatError("--alpha is the network's penalty: 0 or more, with --model nn")
        estimator.alpha = args.alpha
    return estimator


def _run_learning_curve(
    args: argparse.Namespace,
    X: np.ndarray,
    y: np.ndarray,
    classes: list[str],
    window: DataWindow,
    estimator: ScaledClassifier,
) -> int:
    points = [
        learning_curve(X, y, classes, window, k, args.draws, args.seed, estimator=estimator)
        for k in args.per_move
    ]
    protocol = (
        f"{args.draws} draws of K recordings per move for training, all the rest tested "
        f"(seed {args.seed})"
    )
    if args.json:
        document: dict[str, Any] = {
            "protocol": protocol,
            "model": args.model,
            "window": window.name,
            "classes": list(classes),
            "recordings": len(y),
            "points": [point.to_json() for point in points],
        }
        if len(points) == 1:
            document.update({key: points[0].to_json()[key] for key in ("mean", "min", "max")})
        _print_json(document)
    else:
        print(f"{protocol}, {args.model}, window {window.name}, {len(y)} recordings")
        print(f"K per move   mean    min    max   recognised at {points[0].threshold:g}  wrongly")
        for point in points:
            print(
                f"{point.per_move:10d}  {point.mean:.3f}  {point.min:.3f}  {point.max:.3f}"
                f"   {point.recognised:.3f}{'':13}{point.wrongly_recognised:.3f}"
            )
    return 0


def _per_move_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers like 1,2,3, not {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("recordings per move must be 1 or more")
    return values


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run_train(args: argparse.Namespace) -> int:
    dataset, _ = load_createai(args.dataset)
    window = _window(dataset, "auto")
    X, y, classes = _features(dataset, window), dataset.labels(), dataset.class_names
    model = train_model(X, y, classes, window)
    model_bytes = model.to_tflite(int8=args.int8)
    write_atomically(Path(args.out), model_bytes)
    try:
        estimate: Evaluation | None = cross_validate(X, y, classes, window)
        note = ""
    except NotEnoughRecordingsError as exc:
        estimate, note = None, str(exc)
    if args.json:
        _print_json(
            {
                "out": str(args.out),
                "bytes": len(model_bytes),
                "int8": bool(args.int8),
                "classes": list(classes),
                "window": window.name,
                "recordings": len(y),
                "estimate": None
                if estimate is None
                else {**estimate.to_json(), "k_folds": estimate.k_folds},
                "note": note,
            }
        )
    else:
        kind = "int8" if args.int8 else "float32"
        print(f"wrote {args.out} ({len(model_bytes)} bytes, {kind}, window {window.name})")
        if estimate is None:
            print(f"no accuracy estimate: {note}")
        else:
            print(f"estimated accuracy on new recordings ({estimate.k_folds}-fold CV):")
            _print_evaluation(estimate)
    return 0


def run_export_model(args: argparse.Namespace) -> int:
    from kiosk.firmware.hexbuild import build_files_hex, runtime_version
    from kiosk.ml.microbit_model import BOARD_VERSION, Move, main_py
    from kiosk.session.presets import icon_cells

    dataset = _export_dataset(args)
    # The board reads live at the kiosk's rate, so the model learns the kiosk's live window
    # whatever window the file's recordings were made with.
    window = CURRENT_WINDOW
    started = time.perf_counter()
    model = train_model(_features(dataset, window), dataset.labels(), dataset.class_names, window)
    trained = time.perf_counter()
    if model.network is None:
        raise DatasetFormatError("only the network can go on a micro:bit")
    moves = [Move(a.name, icon_cells(a.icon), a.threshold) for a in dataset.actions]
    program = main_py(model.network, moves, window)
    hex_text = build_files_hex(BOARD_VERSION, {"main.py": program}, what="model")
    built = time.perf_counter()
    data = hex_text.encode("ascii")
    write_atomically(Path(args.microbit), data)
    if args.main_py:
        write_atomically(Path(args.main_py), program.encode("ascii"))
    figures = {
        "out": str(args.microbit),
        "bytes": len(data),
        "main_py_bytes": len(program),
        "board": f"micro:bit V{BOARD_VERSION}",
        "micropython": runtime_version(BOARD_VERSION),
        "classes": list(dataset.class_names),
        "recordings": len(dataset.labels()),
        "train_seconds": round(trained - started, 3),
        "build_seconds": round(built - trained, 3),
    }
    if args.json:
        _print_json(figures)
    else:
        print(
            f"wrote {args.microbit} ({len(data):,} bytes: MicroPython "
            f"{figures['micropython']} for micro:bit V{BOARD_VERSION} and a "
            f"{len(program):,}-byte main.py; trained in {figures['train_seconds']} s, "
            f"built in {figures['build_seconds']} s)"
        )
        print("Copy it onto the MICROBIT drive; the board then shows the move it recognises.")
    return 0


def _export_dataset(args: argparse.Namespace) -> Dataset:
    """The recordings to export a model of: the file, or the project in the database."""
    if (args.dataset is None) == (args.project is None):
        raise DatasetFormatError("give either DATASET.json or --project NAME (not both)")
    if args.dataset is not None:
        return load_createai(args.dataset)[0]
    from kiosk.cli.store_commands import database_for
    from kiosk.errors import StorageError
    from kiosk.store.database import Store

    with Store.open(database_for(args.db)) as store:
        project = store.project_id(args.project)
        if project is None:
            raise StorageError(f"there is no project called {args.project!r}")
        return store.load_dataset(project)


def run_predict(args: argparse.Namespace) -> int:
    classifier = TFLiteClassifier.from_path(args.model)
    dataset, _ = load_createai(args.dataset)
    window = window_by_name(classifier.info.window)
    X = _features(dataset, window)
    probabilities = classifier.predict_proba(X) if len(X) else np.zeros((0, 0))
    rows = [
        {"action": a, "recording": r, "probabilities": probabilities[i].tolist()}
        for i, (a, r, _) in enumerate(dataset.labelled_recordings())
    ]
    classes = list(classifier.info.classes)
    if args.json:
        _print_json({"classes": classes, "rows": rows})
    else:
        print("action recording " + " ".join(classes) + " -> predicted")
        for row in rows:
            p = row["probabilities"]
            best = classes[int(np.argmax(p))]
            print(
                f"{row['action']} {row['recording']} "
                + " ".join(f"{v:.3f}" for v in p)
                + f" -> {best}"
            )
    return 0


def load_folds(path: str | Path, set_name: str, dataset: Dataset) -> list[np.ndarray]:
    """Test-row indices of each fold of ``set_name`` in a folds.json file, for this dataset."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FOLDS_FILE_BYTES:
            raise DatasetFormatError(f"{path.name} is too large to be a folds file")
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetFormatError(f"cannot read folds file {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetFormatError(f"{path.name} is not valid JSON ({exc})") from None
    sets = document.get("datasets") if isinstance(document, dict) else None
    if not isinstance(sets, dict):
        raise DatasetFormatError(f"{path.name} has no 'datasets' object; is it a folds file?")
    if set_name not in sets:
        names = ", ".join(sorted(str(k) for k in sets)) or "none"
        raise DatasetFormatError(f"{path.name} has no set {set_name!r} (it has: {names})")
    rows = sets[set_name].get("rows") if isinstance(sets[set_name], dict) else None
    if not isinstance(rows, list) or not rows:
        raise DatasetFormatError(f"set {set_name!r} in {path.name} has no list of rows")
    index = {(a, r): i for i, (a, r, _) in enumerate(dataset.labelled_recordings())}
    assigned: dict[int, list[int]] = {}
    for n, row in enumerate(rows):
        try:
            key = (row["action"], row["recording"])
            fold = row["fold"]
        except (TypeError, KeyError):
            raise DatasetFormatError(
                f"row {n + 1} of set {set_name!r} needs 'action', 'recording' and 'fold'"
            ) from None
        if not all(type(v) is int for v in (*key, fold)) or fold < 0:
            raise DatasetFormatError(f"row {n + 1} of set {set_name!r} has non-integer indices")
        if key not in index:
            raise DatasetFormatError(
                f"row {n + 1} of set {set_name!r} names action {key[0]}, recording {key[1]}, "
                "which the dataset does not have; is it the right dataset?"
            )
        assigned.setdefault(fold, []).append(index[key])
    return [np.array(sorted(assigned[f]), dtype=np.int64) for f in sorted(assigned)]


def _window(dataset: Dataset, choice: str) -> DataWindow:
    if choice == "auto":
        return choose_window([r.length for _, _, r in dataset.labelled_recordings()])
    return window_by_name(choice)


def _features(dataset: Dataset, window: DataWindow) -> np.ndarray:
    return feature_matrix(dataset.sample_arrays(), window)


def _labels_by_name(test: Dataset, classes: list[str], source: str) -> np.ndarray:
    position = {name: i for i, name in enumerate(classes)}
    unknown = [a.name for a in test.actions if a.recordings and a.name not in position]
    if unknown:
        raise DatasetFormatError(
            f"{Path(source).name} has actions the training file lacks: "
            + ", ".join(repr(n) for n in unknown)
        )
    return np.array(
        [position[test.actions[a].name] for a, _, _ in test.labelled_recordings()], dtype=np.int64
    )


def _print_evaluation(result: Evaluation) -> None:
    print(f"accuracy {result.accuracy:.3f} ({result.n} recordings)")
    width = max(len(c) for c in result.classes)
    print(" " * (width + 2) + " ".join(f"{c[:8]:>8}" for c in result.classes) + "  <- predicted")
    for name, row in zip(result.classes, result.confusion, strict=True):
        print(f"{name:>{width}}  " + " ".join(f"{v:8d}" for v in row))


def _print_json(document: dict[str, Any]) -> None:
    print(json.dumps(document))
