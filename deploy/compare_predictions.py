"""Compare `kiosk predict --json` outputs: the x86 model against arm64's.

Usage: compare_predictions.py [--tolerance 1e-5] REFERENCE.json OTHER.json...

Each OTHER must predict the same class (argmax) as REFERENCE on every
recording, with every probability within the tolerance. Prints one summary
line first, then one line per comparison; exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def compare(reference: dict[str, Any], other: dict[str, Any], tolerance: float) -> list[str]:
    """Differences between two predict outputs, one sentence each (empty if they agree)."""
    if reference["classes"] != other["classes"]:
        return [f"classes differ: {reference['classes']} vs {other['classes']}"]
    if len(reference["rows"]) != len(other["rows"]):
        return [f"{len(reference['rows'])} recordings vs {len(other['rows'])}"]
    found = []
    for a, b in zip(reference["rows"], other["rows"], strict=True):
        where = f"{a['action']}/{a['recording']}"
        if (a["action"], a["recording"]) != (b["action"], b["recording"]):
            found.append(f"{where}: the recordings are in a different order")
            continue
        pa, pb = a["probabilities"], b["probabilities"]
        if pa.index(max(pa)) != pb.index(max(pb)):
            found.append(f"{where}: predicted class differs")
        worst = max(abs(x - y) for x, y in zip(pa, pb, strict=True))
        if worst > tolerance:
            found.append(f"{where}: a probability differs by {worst:.2e} > {tolerance:g}")
    return found


def max_difference(reference: dict[str, Any], other: dict[str, Any]) -> float:
    return max(
        (
            abs(x - y)
            for a, b in zip(reference["rows"], other["rows"], strict=True)
            for x, y in zip(a["probabilities"], b["probabilities"], strict=True)
        ),
        default=0.0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("reference", type=Path)
    parser.add_argument("others", type=Path, nargs="+")
    args = parser.parse_args(argv)
    reference = load(args.reference)
    lines, failed = [], False
    for path in args.others:
        other = load(path)
        found = compare(reference, other, args.tolerance)
        failed = failed or bool(found)
        verdict = "DIFFERS" if found else "same argmax"
        lines.append(
            f"{path.name}: {verdict} on {len(other['rows'])} recordings, "
            f"max probability difference {max_difference(reference, other):.2e}"
        )
        lines.extend(f"  {line}" for line in found)
    rows = len(reference["rows"])
    summary = "DIFFERENT" if failed else "equal"
    print(f"{summary}: argmax on all {rows} recordings, probabilities within {args.tolerance:g}")
    print("\n".join(lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
