"""Explore pictures, saved sets compared, admin settings kept in kiosk.toml, the exit code."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from kiosk.session.admin_settings import EXIT_TO_SHELL, SettingsFile
from kiosk.session.compare import CURRENT
from kiosk.session.screens import Screen
from tests.session.journey import Journey

MOVES = ("Still", "Shake", "Circle")


def _trained(journey: Journey, per_move: int = 3) -> None:
    journey.connect_pretend()
    journey.pick(*MOVES)
    for index in range(len(MOVES)):
        journey.record(index, per_move)
    journey.session.train()
    journey.session.learning.training.wait(120)
    journey.advance(0.05)
    assert journey.session.learning.trained is not None, journey.session.learning.training_error


def test_explore_pictures_are_built_off_the_ui_thread_after_training(journey) -> None:
    _trained(journey)
    s = journey.session
    s.show_explore("map")  # allowed at once: the page says it is still working
    assert s.learning.explore.view == "map"
    journey.finish_explore()
    journey.advance(0.05)
    found = s.learning.explore.result
    assert found is not None and found.importance is not None
    k = len(MOVES)
    assert found.importance.shape == (k, 24) and found.importance.max() == pytest.approx(1.0)
    assert found.averages.shape == (k, 24)
    assert len(found.map_picture.points) == s.data.n_recordings
    # The averages are the mean of each move's fingerprints, in move order.
    first = np.vstack([e.fingerprint for e in s.data.actions[0].recordings]).mean(axis=0)
    assert np.allclose(found.averages[0], first)
    for view in ("map", "squares", "averages"):
        s.show_explore(view)
        assert s.learning.explore.view == view
    s.close_explore()
    assert s.learning.explore.view is None
    # "Why?" reuses the explainer built on the worker thread, and the map tab shows the live point.
    s.test()
    s.toggle_why()
    assert s.learning.explainer is found.explainer
    s.show_why_view("map")
    s.set_pretend_gesture("shake")
    journey.advance(1.2)
    assert s.learning.why_view == "map" and s.learning.explanation is not None
    assert s.learning.explanation.map_point.shape == (2,)
    # Training again forgets the old pictures; starting again forgets everything.
    s.start_again()
    assert (
        s.learning.explore.result is None
        and s.learning.explore.view is None
        and s.learning.explainer is None
    )


def test_saved_sets_are_compared_and_predict_the_same_movement(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick(*MOVES, "Wave")  # Wave is picked but never recorded in the saved set
    for index in range(len(MOVES)):
        journey.record(index, 3)
    journey.unlock_admin()
    s.admin_save_snapshot()
    assert s.writer.flush()  # saved by the store's writer thread: said once committed
    assert s.messages.message is not None and "Set 1" in s.messages.message.text
    s.close_admin()
    journey.record(3, 3)  # Wave, now
    journey.unlock_admin()
    s.admin_compare_start()  # nothing picked yet: refused with words
    assert s.staff.compare.job is None and s.messages.message.kind == "problem"
    s.admin_open_compare()
    ids = [c.id for c in s.staff.compare.choices]
    assert ids[0] == CURRENT and len(ids) == 2
    assert [c.recordings for c in s.staff.compare.choices] == [12, 9]
    for side in ids:
        s.admin_compare_pick(side)
    s.admin_compare_start()
    s.staff.compare.job.wait(120)
    s.set_pretend_gesture("shake")
    journey.advance(1.5)
    comparison = s.staff.compare.comparison
    assert comparison is not None, s.staff.compare.error
    assert comparison.left.classes == (*MOVES, "Wave")
    assert comparison.right.classes == MOVES  # the empty move is left out of the saved set
    left, right = s.staff.compare.live
    assert left.shape == (4,) and right.shape == (3,)
    pictures = s.staff.compare.pictures()
    assert pictures[0].n_recordings == 12 and pictures[1].n_recordings == 9
    # The saved set's model is kept with it.
    snapshot = ids[1]
    assert s.writer.flush()  # kept by the store's writer thread
    assert journey.store.latest_model(s.data.project_id, snapshot) is not None
    s.admin_close_compare()
    assert not s.staff.compare.open


def test_compare_needs_the_pin(journey) -> None:
    journey.connect_pretend()
    s = journey.session
    s.open_admin()  # the PIN pad, still locked
    s.admin_save_snapshot()
    assert s.writer.flush()  # saved by the store's writer thread: said once committed
    s.admin_open_compare()
    assert not s.staff.compare.open and journey.store.list_snapshots(s.data.project_id) == []


def test_admin_changes_are_written_to_kiosk_toml_keeping_comments(make_journey, tmp_path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("# the technician's note\n[session]\nidle_timeout_s = 60.0\n")
    j = make_journey()
    s = j.session
    s.settings_file = SettingsFile(config)
    j.unlock_admin()
    s.admin_cycle_idle_timeout()
    s.admin_set_sound(False)
    s.admin_set_keep_data(True)
    s.admin_rotate()
    s.admin_rotate()  # the second tap confirms
    text = config.read_text()
    assert text.startswith("# the technician's note\n")
    saved = tomllib.loads(text)
    assert saved["session"]["idle_timeout_s"] == s.settings.idle_timeout_s == 120.0
    assert saved["session"]["keep_data_between_visitors"] is True
    assert saved["sound"]["enabled"] is False
    assert saved["display"]["rotation"] == 90
    assert s.messages.message.kind == "good"


def test_a_read_only_config_is_reported_and_the_change_applies(
    make_journey, tmp_path, monkeypatch
) -> None:
    from kiosk.session import admin_settings

    config = tmp_path / "kiosk.toml"
    config.write_text("[sound]\nenabled = true\n")

    def refused(*_args, **_kwargs) -> None:  # what a non-root service user meets
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(admin_settings, "write_setting", refused)
    j = make_journey()
    s = j.session
    s.settings_file = SettingsFile(config)
    j.unlock_admin()
    s.admin_set_sound(False)
    assert s.settings.sound_enabled is False  # applied for this run
    message = s.messages.message
    assert message.kind == "problem" and "not kept after a restart" in message.text
    assert "no permission" in message.text
    assert tomllib.loads(config.read_text())["sound"]["enabled"] is True


def test_without_a_settings_file_changes_apply_for_this_run_only(journey) -> None:
    journey.unlock_admin()
    journey.session.admin_set_sound(False)
    assert journey.session.settings.sound_enabled is False
    assert journey.session.messages.message.kind == "info"


def test_exit_to_shell_sets_the_exit_code_systemd_will_not_restart(journey) -> None:
    s = journey.session
    s.open_admin()
    s.admin_exit_to_shell()  # locked: nothing happens
    assert not s.staff.quit_requested and s.staff.exit_code == 0
    journey.unlock_admin()
    s.admin_exit_to_shell()
    assert not s.staff.quit_requested  # the first tap asks
    s.admin_exit_to_shell()
    assert s.staff.quit_requested and s.staff.exit_code == EXIT_TO_SHELL == 64
    assert s.screen is Screen.ADMIN


def test_only_admin_settings_can_be_saved_from_the_admin_screen(tmp_path) -> None:
    from kiosk.settings import Settings

    with pytest.raises(ValueError, match="not a setting the admin screen"):
        SettingsFile(tmp_path / "a.toml").save(Settings(), "pin_hash")
    with pytest.raises(ValueError, match="rotation"):
        Settings().changed("rotation", 45)


def test_a_read_only_root_is_named_in_the_message(make_journey, tmp_path, monkeypatch) -> None:
    import errno

    from kiosk.session import admin_settings

    def read_only(*_args, **_kwargs) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(admin_settings, "write_setting", read_only)
    j = make_journey()
    s = j.session
    s.settings_file = SettingsFile(tmp_path / "kiosk.toml")
    j.unlock_admin()
    s.admin_rotate()
    s.admin_rotate()  # the second tap confirms
    assert s.settings.rotation == 90  # applied for this run
    assert (
        s.messages.message.kind == "problem" and "read-only file system" in s.messages.message.text
    )
