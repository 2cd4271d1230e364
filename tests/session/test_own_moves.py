"""A visitor's own move: a typed name and a MakeCode picture, within 2-5 moves, staff may forbid."""

from __future__ import annotations

from kiosk.microbit.icons import ICON_NAMES, icon_cells
from kiosk.session.own_move import NAME_MAX, Step
from kiosk.session.screens import Screen
from kiosk.store.createai_json import dump_createai

from .test_owners import _differences, _state


def _on_actions(journey) -> None:
    journey.connect_pretend()
    assert journey.session.screen is Screen.ACTIONS


def test_a_visitor_names_a_move_picks_its_picture_and_it_is_theirs(journey) -> None:
    s = journey.session
    _on_actions(journey)
    s.choose_action("Still")
    s.make_own_move()
    assert s.screen is Screen.MAKE_MOVE and s.own_move.step is Step.NAME
    assert s.own_move.icon == "House"  # CreateAI's first default icon, unless they pick
    for key in ("h", "o", "p", "p", "back", "space", "space", "u", "p"):
        s.own_move_type(key)
    assert s.own_move.keyboard.text == "hop up" and s.own_move.name == "Hop up"
    s.own_move_next()
    assert s.own_move.step is Step.PICTURE and s.own_move.page == 0
    assert "Scissors" not in s.own_move.page_icons()  # the last icon is on the next page
    s.own_move_more_icons()
    assert "Scissors" in s.own_move.page_icons()
    s.own_move_pick_icon("Asleep")  # Still's picture: two moves never share one
    assert s.own_move.icon == "House" and "Another of your moves" in s.messages.message.text
    s.own_move_pick_icon("Scissors")
    s.own_move_pick_icon("not an icon")  # ignored
    s.own_move_add()
    assert s.screen is Screen.ACTIONS
    assert [(a.name, a.icon) for a in s.data.actions] == [
        ("Still", "Asleep"),
        ("Hop up", "Scissors"),
    ]
    assert ("Hop up", "Scissors") in s.available_choices()  # its card, to unpick it
    assert s.own_move.keyboard.text == "" and s.own_move.icon == ""  # made: forgotten
    # It is a move like any other: recorded, exported with its icon, shown on the board.
    s.actions_done()
    journey.record(1, 1)
    assert len(s.data.actions[1].recordings) == 1
    dataset = s.store.load_dataset(s.data.project_id)
    assert '"icon": "Scissors"' in dump_createai(dataset)
    assert icon_cells(s.data.actions[1].icon) == icon_cells("Scissors")


def test_every_icon_can_be_reached_on_the_pages() -> None:
    from kiosk.session.own_move import OwnMove

    own = OwnMove()
    seen: list[str] = []
    for _page in range(own.page_count()):
        seen += own.page_icons()
        own.next_page()
    assert seen == list(ICON_NAMES) and own.page == 0  # round again


def test_a_name_must_be_typed_and_new(journey) -> None:
    s = journey.session
    _on_actions(journey)
    s.choose_action("Shake")
    s.make_own_move()
    s.own_move_next()
    assert s.own_move.step is Step.NAME
    assert s.messages.message.text == "Type a name for your move first."
    for key in "shake":
        s.own_move_type(key)
    s.own_move_next()  # already picked
    assert s.own_move.step is Step.NAME and "Shake is already a move" in s.messages.message.text
    for _key in range(5):
        s.own_move_type("back")
    for key in "circle":
        s.own_move_type(key)
    s.own_move_next()  # a preset on offer: pick it on the list instead
    assert s.own_move.step is Step.NAME and "Circle is already a move" in s.messages.message.text
    for key in "abcdefghijklmnopqrstuvwxyz":
        s.own_move_type(key)
    assert len(s.own_move.keyboard.text) == NAME_MAX


def test_back_goes_from_picture_to_name_to_the_actions_screen(journey) -> None:
    s = journey.session
    _on_actions(journey)
    s.make_own_move()
    s.own_move_type("x")
    s.own_move_next()
    s.own_move_back()
    assert s.screen is Screen.MAKE_MOVE and s.own_move.step is Step.NAME
    assert s.own_move.keyboard.text == "x"  # the name is kept to change it
    s.own_move_back()
    assert s.screen is Screen.ACTIONS and s.own_move.keyboard.text == ""
    assert s.data.actions == []


def test_no_more_than_five_moves(journey) -> None:
    s = journey.session
    _on_actions(journey)
    for name in ("Still", "Shake", "Circle", "Wave"):
        s.choose_action(name)
    journey.make_own_move("Hop", "Rabbit")
    assert len(s.data.actions) == 5
    s.make_own_move()
    assert s.screen is Screen.ACTIONS and "up to 5 moves" in s.messages.message.text
    s.choose_action("Hop")  # unpick their own move (no recordings: at once)
    assert len(s.data.actions) == 4 and "Hop" not in [n for n, _i in s.available_choices()]
    s.make_own_move()
    assert s.screen is Screen.MAKE_MOVE


def test_own_moves_get_pictures_no_other_move_shows(journey) -> None:
    s = journey.session
    _on_actions(journey)
    s.choose_action("Still")
    journey.make_own_move("Hop", "House")
    s.make_own_move()
    on_offer = {icon for _n, icon in s.available_choices()}
    assert s.own_move.icon not in on_offer and s.own_move.icon in ICON_NAMES


def test_staff_can_turn_own_moves_off(make_journey) -> None:
    j = make_journey(own_moves=False)
    s = j.session
    _on_actions(j)
    s.make_own_move()
    assert s.screen is Screen.ACTIONS
    j2 = make_journey()
    j2.unlock_admin()
    j2.session.admin_set_own_moves(False)
    assert not j2.session.settings.own_moves


def test_a_half_made_move_is_forgotten_by_the_visitor_reset(make_journey) -> None:
    fresh, used = make_journey(), make_journey()
    s = used.session
    _on_actions(used)
    s.make_own_move()
    for key in "zig":
        s.own_move_type(key)
    s.own_move_next()
    s.own_move_more_icons()
    s.own_move_pick_icon("Scissors")
    s.reset_visitor()
    fresh.session.reset_visitor()
    assert s.screen is Screen.ATTRACT
    assert _differences(_state(s.own_move), _state(fresh.session.own_move)) == []
