"""Frame times over the whole scripted journey, per screen and per view, with what made the spikes.

The headless demo (``kiosk.ui.demo``) drives the real app through real touch
events; this runs it in a child process per screen size and labels every
frame with the screen it drew (the test screen split into its plain view and
the two "Why?" views, the train screen into its explore pages). A frame's time
is the app's own ``frame_ms`` (events, session tick, drawing, present), the UI
thread's whole share of the frame.

Also counted in the same run: garbage collections (``gc.callbacks``), the
longest of each generation and how many frames a full collection landed in,
and the frames over 12 ms and over 16.7 ms (a missed refresh at 60 fps).

The "Why?" views are held open for ``WHY_SECONDS`` each (the demo glances at
them for 0.3 s), so that their p99 is of a few hundred frames.

Each frame's present (its ``pygame.display.flip``: next to nothing with the
dummy driver, the real cost in a window) is reported apart as well, and so
is each frame's CPU time on the UI thread: on a shared machine the
wall-clock maximum includes time the thread was not running at all, and the
difference says which spikes are the kiosk's own work.

``slow_disk_s`` runs the journey with every commit made that much slower (the
store's ``before_commit`` hook, standing in for an SD card's fsync) and counts
the commits made on the UI thread: the writer thread should make them all.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

WHY_SECONDS = 4.0
OVER_MS = (12.0, 16.7)


def frame_label(session: Any) -> str:
    """The screen a frame drew, with the view that decides its drawing cost."""
    label = str(session.screen.value)
    learning = session.learning
    if label == "test" and learning.showing_why:
        return f"test_why_{learning.why_view}"
    explore = getattr(learning, "explore", None)
    if label == "train" and explore is not None and explore.view is not None:
        return f"train_{explore.view}"
    return label


def stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {
        "n": int(a.size),
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "max": round(float(a.max()), 3),
    }


class _GcWatch:
    """Times every collection; notes the frame a full (generation 2) one ran in."""

    def __init__(self) -> None:
        self.started = 0.0
        self.ms: dict[int, list[float]] = defaultdict(list)
        self.full_in_frame = False

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
            return
        generation = int(info.get("generation", 0))
        self.ms[generation].append((time.perf_counter() - self.started) * 1000.0)
        if generation == 2:
            self.full_in_frame = True


def journey(size: tuple[int, int], out: Path, slow_disk_s: float = 0.0) -> dict[str, Any]:
    """Child process: run the demo at ``size``, every frame labelled; returns the figures."""
    import threading

    from kiosk.store.database import Store
    from kiosk.ui import demo
    from kiosk.ui.app import KioskApp

    frames: list[tuple[str, float, bool, float]] = []
    presents: list[float] = []  # each frame's flip (a real display's present)
    watch = _GcWatch()
    gc.callbacks.append(watch)
    step = KioskApp.step
    ui_thread = threading.current_thread()
    commits = {"ui": 0, "other": 0}

    def slow_commit() -> None:
        commits["ui" if threading.current_thread() is ui_thread else "other"] += 1
        time.sleep(slow_disk_s)

    store_open = Store.open.__func__  # type: ignore[attr-defined]

    def open_slow(cls: type[Store], *args: Any, **kwargs: Any) -> Store:
        store = store_open(cls, *args, **kwargs)
        store.before_commit = slow_commit
        return store

    if slow_disk_s:
        Store.open = classmethod(open_slow)  # type: ignore[method-assign,assignment]

    def labelled_step(app: KioskApp) -> None:
        watch.full_in_frame = False
        cpu = time.thread_time()
        step(app)
        cpu_ms = (time.thread_time() - cpu) * 1000.0
        frames.append((frame_label(app.session), app.frame_ms[-1], watch.full_in_frame, cpu_ms))
        presents.append(float(getattr(app, "present_ms", 0.0)))

    run_for = demo.DemoDriver.run_for

    def longer_why(driver: demo.DemoDriver, seconds: float) -> None:
        if driver.session.learning.showing_why:
            seconds = max(seconds, WHY_SECONDS)
        run_for(driver, seconds)

    frozen = [0]
    start_collector = None
    try:
        from kiosk.ui.app import Collector

        start_collector = Collector.start

        def counted_start(collector: Collector) -> None:
            start_collector(collector)  # type: ignore[misc]
            frozen[0] = gc.get_freeze_count()

        Collector.start = counted_start  # type: ignore[method-assign,assignment]
    except ImportError:  # the code before the collector
        pass
    KioskApp.step = labelled_step  # type: ignore[method-assign,assignment]
    demo.DemoDriver.run_for = longer_why  # type: ignore[method-assign,assignment]
    summary = demo.run_demo(out, demo.DemoPlan(size=size))
    gc.callbacks.remove(watch)
    by_label: dict[str, list[float]] = defaultdict(list)
    for label, ms, _, _ in frames:
        by_label[label].append(ms)
    every = [ms for _, ms, _, _ in frames]
    slowest = sorted(frames, key=lambda f: -f[1])[:8]
    return {
        "all": stats(every),
        "cpu": stats([cpu for _, _, _, cpu in frames]),
        "present": stats(presents),
        "without_present": stats([f[1] - p for f, p in zip(frames, presents, strict=True)]),
        "commits_on_ui_thread": commits["ui"],
        "commits_elsewhere": commits["other"],
        "screens": {label: stats(values) for label, values in sorted(by_label.items())},
        "over": {str(limit): sum(ms > limit for ms in every) for limit in OVER_MS},
        "slowest": [[label, round(ms, 2), full, round(cpu, 2)] for label, ms, full, cpu in slowest],
        "gc_max_ms": {str(g): round(max(v), 2) for g, v in sorted(watch.ms.items())},
        "gc_count": {str(g): len(v) for g, v in sorted(watch.ms.items())},
        "gc_full_frames": sum(full for _, _, full, _ in frames),
        "gc_full_frame_max_ms": max([ms for _, ms, full, _ in frames if full] or [0.0]),
        "gc_frozen": frozen[0],
        "rss_mb": summary["rss_mb"],
        "baseline_rss_mb": summary["baseline_rss_mb"],
    }


def run_child(
    size: tuple[int, int], slow_disk_s: float = 0.0, env: dict[str, str] | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "kiosk.bench.journey",
                f"{size[0]}x{size[1]}",
                tmp,
                str(slow_disk_s),
            ],
            capture_output=True,
            text=True,
            env=env or dict(os.environ),
            timeout=900,
        )
        if out.returncode != 0:
            raise RuntimeError(f"the journey at {size} failed:\n{out.stderr[-3000:]}")
        return dict(json.loads((Path(tmp) / "journey.json").read_text()))


def figures(
    size: tuple[int, int], result: dict[str, Any], prefix: str = "journey"
) -> dict[str, Any]:
    """Flat ``kiosk bench`` figures from one journey: overall, then per screen / view."""
    tag = f"{size[0]}x{size[1]}"
    out: dict[str, Any] = {}
    for stat in ("p50", "p95", "p99", "max"):
        out[f"{prefix}_frame_ms_{stat}_{tag}"] = result["all"][stat]
    for stat in ("p99", "max"):
        out[f"{prefix}_cpu_ms_{stat}_{tag}"] = result["cpu"][stat]
    for stat in ("p50", "p99", "max"):
        out[f"{prefix}_present_ms_{stat}_{tag}"] = result["present"][stat]
        out[f"{prefix}_frame_ms_without_present_{stat}_{tag}"] = result["without_present"][stat]
    out[f"{prefix}_commits_on_ui_thread_{tag}"] = result["commits_on_ui_thread"]
    if prefix != "journey":  # the slow-disk run: the overall figures say enough
        out[f"{prefix}_commits_on_writer_{tag}"] = result["commits_elsewhere"]
        out[f"{prefix}_frames_over_12.0ms_{tag}"] = result["over"]["12.0"]
        return out
    out[f"journey_frames_{tag}"] = result["all"]["n"]
    for limit, count in result["over"].items():
        out[f"journey_frames_over_{limit}ms_{tag}"] = count
    for label, values in result["screens"].items():
        for stat in ("p50", "p95", "p99", "max"):
            out[f"journey_{label}_frame_ms_{stat}_{tag}"] = values[stat]
    out[f"journey_gc_full_max_ms_{tag}"] = result["gc_max_ms"].get("2", 0.0)
    out[f"journey_gc_full_collections_{tag}"] = result["gc_count"].get("2", 0)
    out[f"journey_gc_young_max_ms_{tag}"] = max(
        [v for g, v in result["gc_max_ms"].items() if g != "2"] or [0.0]
    )
    out[f"journey_frames_with_full_gc_{tag}"] = result["gc_full_frames"]
    out[f"journey_full_gc_frame_max_ms_{tag}"] = round(result["gc_full_frame_max_ms"], 3)
    out[f"journey_gc_frozen_objects_{tag}"] = result["gc_frozen"]
    out[f"journey_slowest_frames_{tag}"] = ", ".join(
        f"{label} {ms} (cpu {cpu}){' full gc' if full else ''}"
        for label, ms, full, cpu in result["slowest"]
    )
    return out


if __name__ == "__main__":
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    w, h = (int(v) for v in sys.argv[1].split("x"))
    folder = Path(sys.argv[2])
    result = journey((w, h), folder, float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
    (folder / "journey.json").write_text(json.dumps(result))
