"""The SQLite store: what goes in comes out, every change is all or nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from kiosk.dataset import Recording
from kiosk.errors import DatasetFormatError, StorageError, StorageFullError
from kiosk.store import database
from kiosk.store.database import Store
from kiosk.store.schema import LATEST_VERSION
from tests.store.helpers import action_doc, recording, samples_for, write_json


def test_open_sets_wal_full_sync_foreign_keys_and_schema(store: Store, db_path: Path) -> None:
    db = store._db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    assert store.check() == []
    store.close()
    with Store.open(db_path) as again:  # reopening migrates nothing and keeps the version
        assert again._db.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION


def test_a_database_from_a_newer_kiosk_is_refused(db_path: Path) -> None:
    Store.open(db_path).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(StorageError, match="newer kiosk"):
        Store.open(db_path)


def test_a_file_that_is_not_a_database_is_refused_clearly(db_path: Path) -> None:
    db_path.write_bytes(b"this is a shopping list, not a database" * 100)
    with pytest.raises(StorageError, match="not a kiosk database; the kiosk moves it aside"):
        Store.open(db_path)


def test_recordings_round_trip_bit_for_bit(store: Store) -> None:
    project = store.ensure_project("class 4")
    action = store.add_action(project, "wave", "Heart", threshold=0.7)
    odd = np.array([[0.1, -0.0, 1e-300], [np.nextafter(1.0, 2.0), -2.04, 5e-324]])
    saved = [
        store.add_recording(action, Recording(odd, sample_period_ms=20.0, arrival_rate_hz=51.5)),
        store.add_recording(action, recording(7, created_at=123)),
    ]
    dataset = store.load_dataset(project)
    (loaded_action,) = dataset.actions
    assert (loaded_action.id, loaded_action.name, loaded_action.icon) == (action, "wave", "Heart")
    assert loaded_action.threshold == 0.7
    first, second = loaded_action.recordings
    assert [first.id, second.id] == saved
    assert first.samples.tobytes() == odd.tobytes()  # -0.0 and subnormals included
    assert (first.sample_period_ms, first.arrival_rate_hz) == (20.0, 51.5)
    assert first.created_at is not None and first.created_at > 1_600_000_000_000
    assert np.array_equal(second.samples, samples_for(7)) and second.created_at == 123


def test_generated_ids_are_unique_millisecond_stamps(store: Store) -> None:
    project = store.ensure_project("p")
    action = store.add_action(project, "a", None)
    ids = [store.add_recording(action, recording(i)) for i in range(200)]
    assert len(set(ids)) == 200
    assert all(i.isdigit() and int(i) > 1_600_000_000_000 for i in ids)
    assert ids == sorted(ids, key=int)


def test_a_recording_keeps_its_own_id_when_free(store: Store) -> None:
    action = store.add_action(store.ensure_project("p"), "a", None)
    assert store.add_recording(action, recording(1, id="mine")) == "mine"
    assert store.add_recording(action, recording(2, id="mine")) != "mine"


def test_projects_are_listed_with_counts(store: Store) -> None:
    p1 = store.ensure_project("b")
    assert store.ensure_project("b") == p1
    p2 = store.ensure_project("a")
    a = store.add_action(p1, "x", None)
    store.add_action(p1, "y", None)
    store.add_recording(a, recording(1))
    summaries = store.list_projects()
    assert [(s.name, s.actions, s.recordings, s.id) for s in summaries] == [
        ("a", 0, 0, p2),
        ("b", 2, 1, p1),
    ]


def test_actions_keep_their_order_and_names_are_unique(store: Store) -> None:
    project = store.ensure_project("p")
    ids = [store.add_action(project, name, None) for name in ("z", "a", "m")]
    assert store.load_dataset(project).class_names == ["z", "a", "m"]
    with pytest.raises(StorageError, match="already an action called 'a'"):
        store.add_action(project, "a", None)
    store.rename_action(ids[0], "zz")
    with pytest.raises(StorageError, match="already an action called 'm'"):
        store.rename_action(ids[0], "m")
    store.set_icon(ids[1], "Duck")
    store.set_threshold(ids[2], 0.95)
    dataset = store.load_dataset(project)
    assert dataset.class_names == ["zz", "a", "m"]
    assert dataset.actions[1].icon == "Duck" and dataset.actions[2].threshold == 0.95


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_thresholds_outside_zero_to_one_are_refused(store: Store, bad: float) -> None:
    action = store.add_action(store.ensure_project("p"), "a", None)
    with pytest.raises(StorageError, match="between 0 and 1"):
        store.set_threshold(action, bad)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_bad_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(StorageError):
        store.ensure_project(name)
    assert store.list_projects() == []


def test_bad_recordings_are_refused_and_nothing_is_saved(store: Store) -> None:
    project = store.ensure_project("p")
    action = store.add_action(project, "a", None)
    with pytest.raises(StorageError, match="at least one sample"):
        store.add_recording(action, Recording(np.zeros((0, 3))))
    with pytest.raises(StorageError, match="not numbers"):
        store.add_recording(action, Recording(np.array([[np.nan, 0, 0]])))
    with pytest.raises(StorageError, match="no action"):
        store.add_recording("nope", recording(1))
    assert store.load_dataset(project).n_recordings == 0


def test_deletes_and_clears(store: Store) -> None:
    project = store.ensure_project("p")
    a = store.add_action(project, "a", None)
    b = store.add_action(project, "b", None)
    ra = [store.add_recording(a, recording(i)) for i in range(3)]
    store.add_recording(b, recording(9))
    assert store.delete_recording(ra[1]) is True
    assert store.delete_recording(ra[1]) is False
    assert [r.id for r in store.load_dataset(project).actions[0].recordings] == [ra[0], ra[2]]
    assert store.delete_action(b) is True
    assert store.load_dataset(project).n_recordings == 2
    assert store.clear_recordings(project) == 2
    assert store.load_dataset(project).class_names == ["a"]
    assert store.clear_dataset(project) == 1
    assert store.load_dataset(project).actions == ()
    assert store.delete_project("p") is True
    assert store.list_projects() == []
    assert store._db.execute("SELECT count(*) FROM dataset").fetchone()[0] == 0


def test_unknown_project_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StorageError, match="no project number 42"):
        store.load_dataset(42)
    with pytest.raises(StorageError, match="no project number 42"):
        store.add_action(42, "a", None)


def test_snapshots_are_frozen_copies(store: Store) -> None:
    project = store.ensure_project("p")
    a = store.add_action(project, "a", "Heart", threshold=0.6)
    first = store.add_recording(a, recording(1))
    snapshot = store.create_snapshot(project, "monday")
    store.add_recording(a, recording(2))
    store.delete_recording(first)
    store.set_threshold(a, 0.9)
    frozen = store.load_snapshot(snapshot)
    assert [r.id for r in frozen.actions[0].recordings] == [first]
    assert np.array_equal(frozen.actions[0].recordings[0].samples, samples_for(1))
    assert frozen.actions[0].threshold == 0.6 and frozen.actions[0].icon == "Heart"
    # snapshot copies are not live: deleting by id does not touch them
    assert store.delete_recording(first) is False
    with pytest.raises(StorageError, match="already a snapshot called 'monday'"):
        store.create_snapshot(project, "monday")
    later = store.create_snapshot(project, "tuesday")
    listed = store.list_snapshots(project)
    assert [(s.id, s.name, s.actions, s.recordings) for s in listed] == [
        (snapshot, "monday", 1, 1),
        (later, "tuesday", 1, 1),
    ]
    assert store.list_projects()[0].snapshots == 2
    assert store.load_dataset(project).n_recordings == 1
    assert store.delete_snapshot(snapshot) is True
    with pytest.raises(StorageError, match="no snapshot"):
        store.load_snapshot(snapshot)


def test_models_per_snapshot_and_live(store: Store) -> None:
    project = store.ensure_project("p")
    snapshot = store.create_snapshot(project, "s")
    assert store.latest_model(project) is None
    confusion = np.array([[3, 1], [0, 4]])
    live_model = store.save_model(project, b"TFL3live", {"accuracy": 0.875, "confusion": confusion})
    snap_model = store.save_model(project, b"TFL3snap", {"accuracy": 1.0}, snapshot_id=snapshot)
    latest = store.latest_model(project)
    assert latest is not None and latest.id == live_model and latest.snapshot_id is None
    assert latest.tflite == b"TFL3live"
    assert latest.metrics["confusion"] == [[3, 1], [0, 4]]
    for_snapshot = store.latest_model(project, snapshot)
    assert for_snapshot is not None and for_snapshot.id == snap_model
    assert store.list_snapshots(project)[0].models == 1
    assert [m.id for m in store.list_models(project)] == [live_model, snap_model]
    other = store.ensure_project("q")
    with pytest.raises(StorageError, match="another project"):
        store.save_model(other, b"x", {}, snapshot_id=snapshot)
    with pytest.raises(StorageError, match="cannot be saved"):
        store.save_model(project, b"x", {"bad": object()})


def test_old_models_are_pruned(store: Store) -> None:
    project = store.ensure_project("p")
    ids = [store.save_model(project, bytes([i + 1]), {"i": i}) for i in range(15)]
    kept = [m.id for m in store.list_models(project)]
    assert kept == ids[-database.MODELS_KEPT :]
    assert store.load_model(ids[-1]).metrics == {"i": 14}


def test_import_real_file_and_ids_are_kept(store: Store, createai_dir: Path) -> None:
    path = createai_dir / "dataset.json"
    project = store.import_createai(path)
    assert store.project_name(project) == "dataset"
    assert store.project_form(project) == "legacy"
    original = json.loads(path.read_text())
    dataset = store.load_dataset(project)
    assert [a.id for a in dataset.actions] == [str(a["ID"]) for a in original]
    assert [r.id for r in dataset.actions[0].recordings] == [
        str(r["ID"]) for r in original[0]["recordings"]
    ]
    assert dataset.actions[0].recordings[0].created_at is None  # legacy files have none
    # The same file again as another project: clashing live ids get fresh ones
    second = store.import_createai(path, "copy")
    copy_ids = {r.id for _, _, r in store.load_dataset(second).labelled_recordings()}
    first_ids = {r.id for _, _, r in dataset.labelled_recordings()}
    assert copy_ids.isdisjoint(first_ids) and len(copy_ids) == len(first_ids)


def _state(store: Store) -> list[object]:
    return [
        (p, store.load_dataset(p.id).labelled_recordings().__len__()) for p in store.list_projects()
    ] + [store._db.execute("SELECT count(*), total(length(samples)) FROM recording").fetchone()]


def test_refused_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    store.import_createai(write_json(tmp_path / "good.json", [action_doc("a"), action_doc("b")]))
    before = _state(store)
    bad = [action_doc("a"), action_doc("b")]
    bad[1]["recordings"][1]["data"]["z"].append(1.0)  # the very last recording is broken
    for replace in (False, True):
        with pytest.raises(DatasetFormatError, match="must be equal"):
            store.import_createai(write_json(tmp_path / "good.json", bad), replace=replace)
    assert _state(store) == before


def test_import_into_an_existing_project_needs_replace(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "p.json", [action_doc("a")])
    project = store.import_createai(path)
    snapshot = store.create_snapshot(project, "kept")
    with pytest.raises(StorageError, match="already a project called 'p'"):
        store.import_createai(path)
    write_json(path, [action_doc("b", 3), action_doc("c", 1)])
    assert store.import_createai(path, replace=True) == project
    assert store.load_dataset(project).class_names == ["b", "c"]
    assert store.load_snapshot(snapshot).class_names == ["a"]


def test_failure_half_way_through_an_import_rolls_back(store: Store, tmp_path: Path) -> None:
    project = store.import_createai(write_json(tmp_path / "p.json", [action_doc("a")]))
    before = _state(store)
    dataset = store.load_dataset(project)
    # The duplicate name is only found inside the transaction, after the old
    # dataset was deleted and the first action inserted: all of it must roll back.
    twice = dataset.__class__((dataset.actions[0], dataset.actions[0]))
    with pytest.raises(StorageError, match="two actions called 'a'"):
        store.import_dataset(twice, "p", replace=True)
    assert _state(store) == before


def test_disk_full_is_reported_and_nothing_is_damaged(db_path: Path) -> None:
    with Store.open(db_path) as store:
        project = store.ensure_project("p")
        action = store.add_action(project, "a", None)
        saved = {store.add_recording(action, recording(i)): i for i in range(20)}
        size = db_path.stat().st_size + (db_path.parent / f"{db_path.name}-wal").stat().st_size
    # Reopen with a cap just above what is used: a real SQLITE_FULL from SQLite itself.
    with Store.open(db_path, max_bytes=size + 16 * 4096) as store:
        big = Recording(np.random.default_rng(0).normal(size=(4000, 3)))
        with pytest.raises(StorageFullError, match="storage is full") as caught:
            for _ in range(100):
                store.add_recording(action, big)
        assert "\n" not in str(caught.value)
        assert store.check() == []
        loaded = {r.id: r for r in store.load_dataset(project).actions[0].recordings}
        for rec_id, index in saved.items():
            assert np.array_equal(loaded[rec_id].samples, samples_for(index))
        # still usable: deleting works, and a small save fits again
        assert store.delete_recording(next(iter(saved)))
        with pytest.raises(StorageFullError):
            store.import_dataset(
                store.load_dataset(project).__class__(
                    (store.load_dataset(project).actions[0].__class__("b", (big,) * 50),)
                ),
                "q",
                replace=False,
            )
        assert [p.name for p in store.list_projects()] == ["p"]
        store.add_recording(action, recording(99))
    with Store.open(db_path) as store:
        assert store.check() == []
        assert store.load_dataset(project).n_recordings >= 20


def test_closed_store_raises_a_storage_error(db_path: Path) -> None:
    store = Store.open(db_path)
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.list_projects()


def test_store_can_be_used_from_another_thread(store: Store) -> None:
    import threading

    project = store.ensure_project("p")
    action = store.add_action(project, "a", None)
    errors: list[BaseException] = []

    def save() -> None:
        try:
            for i in range(20):
                store.add_recording(action, recording(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.load_dataset(project).n_recordings == 60
