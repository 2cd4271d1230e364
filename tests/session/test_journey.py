"""The visitor's journey, headless: every step is an intent on the session, time is a fake clock."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.microbit.link import Fault
from kiosk.session.board_words import lost_words, pair_failed_words
from kiosk.session.presets import icon_cells
from kiosk.session.screens import Screen
from kiosk.session.session import PairStatus


def test_pairing_by_pattern_connects_and_moves_on(journey) -> None:
    s = journey.session
    s.start()
    assert s.screen is Screen.PAIR
    s.pair()  # nothing tapped yet: refused with words, no link opened
    assert s.link is None and s.messages.message is not None and journey.boards.opened == []
    for column, height in enumerate((3, 1, 5, 2, 4)):
        s.set_pair_column(column, height)
    assert s.connection.grid.columns_text == "31524"
    assert (
        s.connection.grid.lit(0, 2)
        and not s.connection.grid.lit(0, 0)
        and s.connection.grid.lit(4, 1)
    )
    s.pair()
    journey.advance(0.1)
    assert journey.boards.opened == [("ble", "31524")]
    assert s.connected and s.screen is Screen.ACTIONS


def test_pairing_failure_says_what_to_do_and_retry_works(journey) -> None:
    s = journey.session
    s.start()
    for column in range(5):
        s.set_pair_column(column, 2)
    journey.boards.bluetooth_works = False
    s.pair()
    journey.advance(0.1)
    assert s.connection.status == PairStatus.FAILED
    assert s.connection.message == pair_failed_words(None, "Bluetooth").sentence
    assert "switched on" in s.connection.message and s.screen is Screen.PAIR
    journey.boards.bluetooth_works = True
    s.pair()  # "Try again"
    journey.advance(0.1)
    assert s.connected and s.screen is Screen.ACTIONS


def test_usb_board_is_offered_when_plugged_in(journey) -> None:
    s = journey.session
    s.start()
    journey.advance(0.1)
    assert s.connection.usb_present is False
    journey.boards.usb = True
    journey.advance(2.5)  # the USB check runs every couple of seconds
    assert s.connection.usb_present is True
    s.use_usb_board()
    journey.advance(0.1)
    assert s.connected and journey.boards.opened[-1] == ("usb", "")


def test_actions_between_two_and_five(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    s.choose_action("Still")
    s.actions_done()
    assert s.screen is Screen.ACTIONS and "at least 2" in s.messages.message.text
    for name in ("Shake", "Circle", "Wave", "Tilt", "Clap"):
        s.choose_action(name)
    assert s.data.names == ("Still", "Shake", "Circle", "Wave", "Tilt")
    assert "up to 5" in s.messages.message.text
    s.choose_action("Shake")  # tapping a picked move unpicks it
    assert s.data.names == ("Still", "Circle", "Wave", "Tilt")
    s.actions_done()
    assert s.screen is Screen.RECORD
    assert s.writer.flush()  # every queued change committed
    assert [a.name for a in journey.store.load_dataset(s.data.project_id).actions] == list(
        s.data.names
    )


def test_recordings_are_stored_with_fingerprints_and_refused_when_too_short(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    journey.record(1, 3)
    shake = s.data.actions[1]
    assert len(shake.recordings) == 3 and s.recordings_made == 3
    for entry in shake.recordings:
        assert 44 <= entry.recording.length <= 60  # one second at ~50 Hz
        assert entry.fingerprint.shape == (24,)
        assert np.all((entry.fingerprint >= 0) & (entry.fingerprint <= 1))
    stored = journey.store.load_dataset(s.data.project_id)
    assert [r.id for r in stored.actions[1].recordings] == [e.id for e in shake.recordings]
    # The board drops out during a take: the take is abandoned, the visitor told what to do.
    s.record(0)
    journey.advance(0.31)  # countdown over, recording starts
    s.link.drop_out(2.0)
    journey.until(lambda: not s.collecting.recorder.busy)
    assert len(s.data.actions[0].recordings) == 0
    assert s.connection.problem is not None


def test_too_short_recordings_are_refused(journey) -> None:
    s = journey.session
    journey.boards.rate_hz = 25.0  # a board sending too slowly: 25 readings a second, 44 needed
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    journey.record(0, 1)
    assert s.data.actions[0].recordings == [] and s.recordings_made == 0
    assert s.messages.message.kind == "problem" and "too short" in s.messages.message.text
    assert journey.store.load_dataset(s.data.project_id).actions[0].recordings == ()


def test_button_b_records_and_a_recording_can_be_deleted(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    s.select_action(1)
    s.link.press_button("B")
    journey.advance(0.05)
    assert s.collecting.recorder.busy and s.collecting.recorder.action_index == 1
    journey.until(lambda: not s.collecting.recorder.busy)
    entry = s.data.actions[1].recordings[0]
    s.view_recording(entry.id)
    assert s.collecting.viewing_recording == entry.id
    s.delete_recording(entry.id)
    assert s.collecting.viewing_recording is None and s.data.actions[1].recordings == []
    assert s.writer.flush()  # every queued change committed
    assert journey.store.load_dataset(s.data.project_id).actions[1].recordings == ()


def test_train_then_test_predicts_on_every_new_sample(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake", "Circle")
    s.train()
    assert s.screen is Screen.RECORD and s.messages.message.text == "Record 3 more Still first."
    for index in range(3):
        journey.record(index, 4)
    s.train()
    assert s.screen is Screen.TRAIN and s.learning.training is not None
    journey.advance(0.05)  # the UI keeps ticking while the worker thread learns
    s.learning.training.wait(120)
    journey.advance(0.02)
    assert s.learning.training is None and s.learning.trained is not None, s.learning.training_error
    assert s.learning.trained.evaluation.accuracy >= 0.75
    assert s.writer.flush()  # every queued change committed
    assert journey.store.latest_model(s.data.project_id) is not None
    s.test()
    assert s.screen is Screen.TEST
    for index, gesture in enumerate(("still", "shake", "circle")):
        s.set_pretend_gesture(gesture)
        journey.advance(1.2)
        before = s.learning.tester.predictions
        delivered_before = s.link.samples.sequence
        hits = 0
        for _ in range(50):
            journey.advance(0.02)
            hits += int(s.learning.tester.detected == index)
        delivered = s.link.samples.sequence - delivered_before
        ticks_with_samples = s.learning.tester.predictions - before
        # One prediction per tick that brought samples; bursts can bring several at once.
        assert 0 < ticks_with_samples <= delivered
        assert hits >= 25, f"{gesture} recognised in only {hits} of 50 ticks"
    assert s.link.last_icon is None or len(s.link.last_icon) == 5
    queued = s.link._next_icon()  # the icon of the recognised move went to the board
    assert queued == icon_cells(s.data.actions[2].icon)


def test_threshold_changes_are_kept(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    s.set_threshold(1, 0.55)
    s.set_threshold(0, 7.0)  # clamped
    assert s.thresholds() == [1.0, 0.55]
    assert s.writer.flush()  # every queued change committed
    stored = journey.store.load_dataset(s.data.project_id)
    assert [a.threshold for a in stored.actions] == [1.0, 0.55]


def test_lost_board_shows_advice_and_keeps_recordings(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    journey.pick("Still", "Shake")
    journey.record(0, 2)
    s.link.drop_out(1.0)
    journey.advance(0.2)
    assert s.link.fault is Fault.CONNECTION_LOST
    assert (
        s.connection.problem
        == lost_words(Fault.CONNECTION_LOST, "Simulated", gave_up=False).sentence
    )
    assert "recordings are safe" in s.connection.problem
    assert len(s.data.actions[0].recordings) == 2
    journey.advance(1.5)
    assert s.connection.problem is None and s.connected


def test_idle_countdown_then_reset_wipes_the_visitor_data(make_journey) -> None:
    j = make_journey(idle_timeout_s=5.0, idle_countdown_s=3.0)
    s = j.session
    j.connect_pretend()
    j.pick("Still", "Shake")
    j.record(0, 1)
    j.advance(4.0)
    assert s.idle_countdown() is None
    s.touch()
    j.advance(5.5)
    left = s.idle_countdown()
    assert left is not None and 2.0 < left <= 3.0
    j.advance(3.0)
    assert s.screen is Screen.ATTRACT and s.reset_count == 1
    assert s.writer.flush()  # every queued change committed
    assert s.data.actions == [] and j.store.load_dataset(s.data.project_id).actions == ()
    assert s.link is None


def test_keep_data_between_visitors(make_journey) -> None:
    j = make_journey(keep_data_between_visitors=True)
    s = j.session
    j.connect_pretend()
    j.pick("Still", "Shake")
    j.record(1, 1)
    s.start_again()
    assert s.screen is Screen.ATTRACT
    assert s.data.names == ("Still", "Shake") and len(s.data.actions[1].recordings) == 1


def test_admin_needs_the_pin(journey) -> None:
    s = journey.session
    s.start()
    s.open_admin()
    assert s.screen is Screen.ADMIN and not s.staff.unlocked
    s.admin_exit_to_shell()
    assert not s.staff.quit_requested  # locked: settings intents do nothing
    for digit in "9999":
        s.enter_pin_digit(digit)
    s.submit_pin()
    assert not s.staff.unlocked and s.messages.message.text == "Wrong PIN."
    journey.advance(1.1)  # the first wrong PIN costs a second
    for digit in "1234":
        s.enter_pin_digit(digit)
    s.submit_pin()
    assert s.staff.unlocked
    s.admin_set_keep_data(True)
    s.admin_cycle_idle_timeout()
    s.admin_rotate()
    s.admin_rotate()  # the second tap confirms
    s.admin_set_sound(False)
    assert s.settings.keep_data_between_visitors and s.settings.idle_timeout_s == 120.0
    assert s.settings.rotation == 90 and not s.settings.sound_enabled
    s.admin_open_keyboard()
    for key in ("h", "o", "p", "back", "p"):
        s.admin_type(key)
    s.admin_add_custom_action()
    assert ("Hop", "House") in s.available_choices()
    s.close_admin()
    assert s.screen is Screen.PAIR and not s.staff.unlocked
    s.open_admin()
    for digit in "1234":
        s.enter_pin_digit(digit)
    s.submit_pin()
    s.admin_exit_to_shell()
    s.admin_exit_to_shell()  # the second tap confirms
    assert s.staff.quit_requested


def test_admin_pairs_a_fixed_board_for_every_visitor(journey) -> None:
    s = journey.session
    s.open_admin()
    for digit in "1234":
        s.enter_pin_digit(digit)
    s.submit_pin()
    s.admin_pair_fixed_board()
    assert s.screen is Screen.PAIR and s.connection.pairing_fixed_board
    for column, height in enumerate((5, 4, 3, 2, 1)):
        s.set_pair_column(column, height)
    s.pair()
    journey.advance(0.1)
    assert s.settings.fixed_pattern == "54321"
    s.start_again()
    assert s.connected  # the fixed board stays for the next visitor
    s.start()
    assert s.screen is Screen.ACTIONS


@pytest.mark.parametrize("bad", [(5, 1), (0, 0), (2, 6)])
def test_pair_grid_rejects_impossible_cells(journey, bad) -> None:
    with pytest.raises(ValueError):
        journey.session.set_pair_column(*bad)
