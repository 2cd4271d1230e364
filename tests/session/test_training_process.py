"""The touchscreen process never loads scikit-learn or scipy, whatever the visitor does.

Training, the global importance behind the explore pictures and the staff's
comparison run in the training worker process (``kiosk.ml.train_worker``);
this process only runs the TFLite model and numpy explanations. A fresh
interpreter walks the whole journey (record, train, test, "Why?", explore,
compare) with the real app drawing every screen, then reports which of those
packages it loaded: none may be there. Also: a training worker that dies
leaves the session running, its recordings untouched, and the visitor told.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from kiosk.session.screens import Screen
from tests.session.journey import Journey

JOURNEY = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tests.session.journey import Journey
    from kiosk.ui.app import AppOptions, KioskApp

    j = Journey(Path(sys.argv[1]))
    s = j.session
    app = KioskApp(s, AppOptions(size=(800, 480), fullscreen=False, locked=False))

    def frames(seconds):
        for _ in range(max(1, round(seconds / 0.02))):
            j.advance(0.02)
            app.step()

    j.connect_pretend()
    j.pick("Still", "Shake", "Circle")
    for index in range(3):
        s.record_many(index, 3)
        while s.collecting.recorder.busy:
            frames(0.1)
    s.train()
    s.learning.training.wait(120)
    frames(0.1)
    assert s.learning.trained is not None, s.learning.training_error
    j.finish_explore()
    frames(0.1)
    assert s.learning.explore.importance_ready
    for view in ("map", "squares", "averages"):
        s.show_explore(view)
        frames(0.05)
    s.close_explore()
    s.test()
    s.set_pretend_gesture("shake")
    frames(1.5)
    s.toggle_why()
    frames(0.5)
    s.show_why_view("map")
    frames(0.5)
    s.open_admin()
    for digit in "1234":
        s.enter_pin_digit(digit)
    s.submit_pin()
    s.admin_save_snapshot()
    assert s.writer.flush()  # saved by the store's writer thread: said once committed
    s.admin_open_compare()
    for choice in s.staff.compare.choices:
        s.admin_compare_pick(choice.id)
    s.admin_compare_start()
    if s.staff.compare.job is not None:
        s.staff.compare.job.wait(120)
    frames(0.5)
    assert s.staff.compare.comparison is not None, s.staff.compare.error
    app.close()
    loaded = sorted({m.split(".")[0] for m in sys.modules} & {"sklearn", "scipy"})
    print("LOADED", loaded, s.learning.tester.predictions)
    """
)


def test_the_whole_journey_never_loads_scikit_learn_or_scipy(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    out = subprocess.run(
        [sys.executable, "-c", JOURNEY, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=root,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("LOADED"))
    assert line.startswith("LOADED []"), line
    assert int(line.split()[-1]) > 0  # the live test really ran


def test_a_dead_training_worker_leaves_the_kiosk_running(journey: Journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    journey.record(0, 3)
    journey.record(1, 3)
    kept = s.data.n_recordings
    journey.until(lambda: s.learning.workers.spare is not None, 5)  # warmed while recording
    spare = s.learning.workers.spare
    deadline = time.monotonic() + 120
    while spare.pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(spare.pid, signal.SIGSTOP)  # frozen: nothing it was given can come back
    s.train()
    job = s.learning.training
    while spare.task is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.worker_pid == spare.pid and not job.model_ready
    os.kill(spare.pid, signal.SIGKILL)
    job.wait(60)
    journey.advance(0.1)  # the session carries on ticking
    assert s.learning.training is None and s.learning.trained is None
    assert s.learning.training_error is not None and "try again" in s.learning.training_error
    assert s.screen is Screen.TRAIN and s.data.n_recordings == kept
    # The visitor taps "try again": it learns this time.
    s.train()
    s.learning.training.wait(120)
    journey.advance(0.05)
    assert s.learning.trained is not None and s.learning.training_error is None
