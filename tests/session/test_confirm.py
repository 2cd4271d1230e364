"""Second chances: every destructive tap asks again first, or can be undone for a few seconds.

The guarded actions: "Start again", unticking a move that has recordings,
deleting a recording (undoable), and on the admin screen "Delete all",
"Exit to shell" and the screen rotation. Time is the journey's fake clock.
"""

from __future__ import annotations

from kiosk.session.confirm import CONFIRM_S, UNDO_S, Confirmations
from kiosk.session.screens import Screen

from .journey import Journey


def _visitor_with_recordings(j: Journey) -> None:
    j.connect_pretend()
    j.pick("Still", "Shake")
    j.record(0, 2)
    j.record(1, 1)


def test_a_second_tap_confirms_only_in_time_and_only_the_same_action() -> None:
    c = Confirmations()
    assert not c.ask("a", "Tap again", 0.0)
    assert c.asking("a") is not None and c.asking("b") is None
    assert not c.ask("b", "Tap again", 1.0)  # another action replaces the question
    assert not c.ask("a", "Tap again", 1.5)
    assert not c.ask("a", "Tap again", 1.5 + CONFIRM_S)  # too late: it asks again
    assert c.ask("a", "Tap again", 2.0 + CONFIRM_S)
    assert c.pending is None
    c.ask("a", "Tap again", 10.0)
    c.expire(10.0 + CONFIRM_S)
    assert c.pending is None


def test_start_again_asks_and_a_second_tap_resets(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    s.ask_start_again()
    assert s.screen is Screen.RECORD and s.data.n_recordings == 3
    assert s.confirm.asking("start_again") is not None
    assert "deleted" in s.messages.message.text
    journey.advance(CONFIRM_S + 0.1)  # the question runs out: nothing happened
    assert s.confirm.pending is None
    s.ask_start_again()
    assert s.screen is Screen.RECORD
    s.ask_start_again()
    assert s.screen is Screen.ATTRACT and s.data.n_recordings == 0
    assert s.confirm.pending is None and s.confirm.undoable is None


def test_opening_the_admin_screen_drops_the_visitors_question_and_its_words(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    s.ask_start_again()
    assert s.messages.message is not None
    s.open_admin()
    assert s.screen is Screen.ADMIN
    assert s.confirm.pending is None
    assert s.messages.message is None  # "Tap again to start over" is not for staff


def test_start_again_with_nothing_to_lose_needs_one_tap(journey) -> None:
    s = journey.session
    journey.connect_pretend()
    s.ask_start_again()
    assert s.screen is Screen.ATTRACT


def test_unticking_a_move_with_recordings_asks_first(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    s.edit_actions()
    s.choose_action("Shake")
    assert s.data.names == ("Still", "Shake")
    assert s.confirm.asking("untick:Shake") is not None
    assert s.messages.message.text == "Tap Shake again to delete it and its 1 recording."
    s.choose_action("Still")  # another card: a new question, Shake's is dropped
    assert s.confirm.asking("untick:Shake") is None and s.data.names == ("Still", "Shake")
    s.choose_action("Still")
    assert s.data.names == ("Shake",)
    s.choose_action("Circle")
    s.choose_action("Circle")  # no recordings: one tap unticks
    assert s.data.names == ("Shake",)


def test_a_deleted_recording_can_be_put_back_where_it_was(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    first, second = s.data.actions[0].recordings
    s.view_recording(first.id)
    s.delete_recording(first.id)
    assert [e.id for e in s.data.actions[0].recordings] == [second.id]
    assert s.confirm.undoable is not None and s.confirm.undoable.words == "Recording deleted."
    s.undo()
    back = s.data.actions[0].recordings
    assert len(back) == 2 and back[1].id == second.id
    assert (back[0].recording.samples == first.recording.samples).all()
    assert s.writer.flush()  # the writer thread has committed every change
    stored = journey.store.load_dataset(s.data.project_id)
    assert sum(len(a.recordings) for a in stored.actions) == 3  # back in the store too
    s.undo()  # only once
    assert s.data.n_recordings == 3


def test_undo_runs_out(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    s.delete_recording(s.data.actions[1].recordings[0].id)
    journey.advance(UNDO_S + 0.1)
    assert s.confirm.undoable is None
    s.undo()
    assert s.data.n_recordings == 2


def test_a_reset_forgets_questions_and_undo_offers(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    s.delete_recording(s.data.actions[1].recordings[0].id)
    s.ask_start_again()
    s.reset_visitor()
    assert s.confirm.pending is None and s.confirm.undoable is None


def test_staff_actions_that_cannot_be_taken_back_ask_first(journey) -> None:
    s = journey.session
    _visitor_with_recordings(journey)
    journey.unlock_admin()
    s.admin_wipe_now()
    assert s.data.n_recordings == 3
    assert s.confirm.asking("delete_all").words == "Tap again to delete\nall 3 recordings"
    s.admin_wipe_now()
    assert s.data.n_recordings == 0
    s.admin_rotate()
    assert s.settings.rotation == 0  # one stray tap does not turn the screen
    s.admin_rotate()
    assert s.settings.rotation == 90
    s.admin_exit_to_shell()
    assert not s.staff.quit_requested
    journey.advance(CONFIRM_S + 0.1)
    s.admin_exit_to_shell()
    assert not s.staff.quit_requested  # the first question ran out: this one asks again
    s.admin_exit_to_shell()
    assert s.staff.quit_requested


def test_watching_the_pretend_board_act_a_move_out_is_not_idleness(make_journey) -> None:
    from kiosk.session.session import PRETEND_WATCH_S

    j = make_journey(idle_timeout_s=5.0, idle_countdown_s=3.0)
    s = j.session
    j.connect_pretend()
    j.pick("Still", "Shake")
    j.record(0, 3)
    j.record(1, 3)
    s.train()
    assert s.learning.training.wait(900)
    j.advance(0.05)
    s.test()
    s.set_pretend_gesture("shake")
    j.advance(20.0)  # far past the idle time: the visitor is watching it shake
    assert s.screen is Screen.TEST and s.idle_countdown() is None
    s.set_pretend_gesture("still")  # nothing moves: the usual countdown
    j.advance(6.0)
    assert s.idle_countdown() is not None
    s.touch()
    s.set_pretend_gesture("shake")
    j.clock.t += PRETEND_WATCH_S  # left shaking with nobody there: it still resets
    j.advance(9.0)
    assert s.screen is Screen.ATTRACT


def test_a_weak_score_names_the_mix_up_that_matters() -> None:
    import numpy as np

    from kiosk.session.advice import confusion_advice

    names = ("Still", "Shake", "Wave")
    good = np.diag([5, 5, 5])
    assert confusion_advice(good, names) is None
    weak = np.array([[5, 0, 0], [0, 2, 3], [0, 2, 3]])
    assert confusion_advice(weak, names) == (
        "Shake and Wave got mixed up: record more of each, or make them more different."
    )


def test_every_square_has_its_own_plain_words() -> None:
    from kiosk.session.fingerprint_words import N_SQUARES, square_words

    words = [square_words(i) for i in range(N_SQUARES)]
    assert len(set(words)) == N_SQUARES == 24
    for sentence in words:
        assert sentence.count(".") == 1 and sentence.endswith(".")  # one sentence
        for jargon in ("max", "mean", "std", "zcr", "rms", "acc"):
            assert jargon not in sentence.lower().split()
