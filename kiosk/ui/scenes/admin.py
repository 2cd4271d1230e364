"""Admin screen, behind a PIN: data between visitors, idle timeout, sound, rotation, exit.

Reached by holding a corner of any screen (see the app); locked until the
PIN is typed on the keypad. An on-screen keyboard adds move names visitors
can then pick. Staff can also freeze the current recordings as a set ("Save
these recordings") and compare two sets: both are trained, then shown side
by side (accuracy, confusion matrix, live answer to the same movement).

"Teacher mode" lets the class choose the model on the train screen. "USB
stick" opens a page listing the CreateAI files on a stick (tap one to make it
the current moves) with "Export to stick" (the data as JSON and CSV, and the
network as .tflite); every outcome is one line in the page's panel.
"""

from __future__ import annotations

from functools import partial

import pygame

from kiosk import i18n
from kiosk.i18n import N_, _, ngettext
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.session.staff_lock import MAX_DIGITS
from kiosk.session.usb_desk import FILES_PER_PAGE
from kiosk.ui import board_prep_view, draw, explain_views, theme
from kiosk.ui.geometry import (
    Rect,
    columns,
    grid,
    inset,
    square_in,
    take_bottom,
)
from kiosk.ui.keyboard import control_buttons, draw_field, key_buttons, keyboard_layout
from kiosk.ui.scenes.base import Scene, confirming
from kiosk.ui.widgets import Button

MAX_SETS_SHOWN = 6  # the current recordings and the newest saved sets


class AdminScene(Scene):
    screen = Screen.ADMIN
    shows_start_again = False

    def title_for(self, session: Session) -> str:
        if not session.staff.unlocked:
            return session.staff.pin.prompt
        if session.staff.compare.open:
            return _("Compare two sets of recordings")
        if session.board_prep.open:
            return _(board_prep_view.TITLE)
        if session.usb.open:
            return _("USB stick")
        return _("Add a move name") if session.staff.keyboard_open else _("Kiosk settings (staff)")

    title = N_("Kiosk settings")

    def arrange(self) -> None:
        m, f = self.m, self.frame
        pad = square_in(f.body) if not m.portrait else f.body
        n_cols = 3
        cell = min((pad.width - 2 * m.gap) // n_cols, (pad.height - 3 * m.gap) // 4)
        pad_rect = Rect(0, 0, cell * 3 + 2 * m.gap, cell * 4 + 3 * m.gap)
        pad_rect.center = f.body.center
        self.pad_cells = grid(pad_rect, 4, 3, m.gap)
        # "Back" leaves the pad: under the typed digits, away from the keys.
        self.pin_back_rect, self.pin_side = take_bottom(f.side, m.unit, m.gap)
        # Ten settings buttons: five rows of two where five finger-sized rows fit, else
        # four rows of three (a wide, short body such as 1280x720).
        five_rows = (f.body.height - 4 * m.gap) // 5 >= m.unit
        self.settings_cells = grid(f.body, 5, 2, m.gap) if five_rows else grid(f.body, 4, 3, m.gap)
        # The keyboard uses the whole screen: keys must stay finger-sized. Beside its
        # field: whether visitors may make moves of their own (names are its subject too).
        self.keyboard = keyboard_layout(m, 4, aside=True)
        # Settings page: two snapshot buttons and "Prepare a micro:bit" under the info panel.
        if m.portrait:
            row, self.info_rect = take_bottom(f.side, m.unit, m.gap)
            self.snapshot_cells = columns(row, [1, 1, 1], m.gap)
        else:
            row, rest = take_bottom(f.side, m.unit, m.gap)
            first, self.info_rect = take_bottom(rest, m.unit, m.gap)
            self.snapshot_cells = [first, *columns(row, [1, 1], m.gap)]
        # USB page: the stick's files in the body; "Export to stick" and "More files" in the
        # side panel under the stick's line (one row of two in portrait).
        self.usb_cells = grid(f.body, 3, 2, m.gap)
        if m.portrait:
            row, self.usb_info = take_bottom(f.side, m.unit, m.gap)
            self.usb_export_rect, self.usb_more_rect = columns(row, [1, 1], m.gap)
        else:
            self.usb_export_rect, rest = take_bottom(f.side, m.unit, m.gap)
            self.usb_more_rect, self.usb_info = take_bottom(rest, m.unit, m.gap)
        # Compare page: the sets to pick in the body, "Learn both" under the side text.
        self.set_cells = grid(f.body, 3, 2, m.gap)
        self.learn_rect, self.compare_note = take_bottom(f.side, m.unit, m.gap)

    def static_key(self, session: Session):
        s = session.settings
        return (
            session.staff.unlocked,
            len(session.staff.pin_entry),
            session.staff.pin.prompt,
            session.staff.keyboard_open,
            session.staff.keyboard_text,
            s.keep_data_between_visitors,
            s.idle_timeout_s,
            s.sound_enabled,
            s.rotation,
            s.fixed_pattern,
            s.own_moves,
            session.data.n_recordings,
            session.messages.message,
            session.staff.compare.open,
            session.staff.compare.version,
            session.board_prep.open,
            board_prep_view.words(session) if session.board_prep.open else None,
            session.confirm.pending,
            s.teacher_mode,
            session.usb.open,
            session.usb.version,
        )

    def scene_buttons(self, session: Session) -> list[Button]:
        if not session.staff.unlocked:
            labels = [*"123456789", N_("Clear"), "0", N_("OK")]
            out = [
                Button(self.pin_back_rect, _("Back"), session.close_admin, "quiet", name="pin_back")
            ]
            for label, cell in zip(labels, self.pad_cells, strict=True):
                if label == "Clear":
                    action = session.clear_pin
                elif label == "OK":
                    action = session.submit_pin
                else:
                    action = partial(session.enter_pin_digit, label)
                out.append(
                    Button(
                        cell,
                        label if label.isdigit() else _(label),
                        action,
                        "primary" if label == "OK" else "normal" if label.isdigit() else "quiet",
                        name=f"pin_{label.lower()}",
                    )
                )
            return out
        if session.staff.keyboard_open:
            own = session.settings.own_moves
            assert self.keyboard.aside is not None
            return [
                *key_buttons(self.keyboard, session.admin_type),
                *control_buttons(
                    self.keyboard,
                    (
                        ("space", _("Space"), lambda: session.admin_type("space"), "quiet"),
                        ("delete", _("Delete"), lambda: session.admin_type("back"), "quiet"),
                        ("cancel", _("Cancel"), session.admin_close_keyboard, "quiet"),
                        ("add", _("Add"), session.admin_add_custom_action, "primary"),
                    ),
                ),
                Button(
                    self.keyboard.aside,
                    _("Own moves:\n{state}").format(state=_("On") if own else _("Off")),
                    lambda: session.admin_set_own_moves(not own),
                    "selected" if own else "normal",
                    name="own_moves",
                ),
            ]
        if session.staff.compare.open:
            return self._compare_buttons(session)
        if session.board_prep.open:
            f = self.frame
            return board_prep_view.buttons(session, f.body, f.primary, self.m.gap)
        if session.usb.open:
            return self._usb_buttons(session)
        s = session.settings
        keep = _("Yes") if s.keep_data_between_visitors else _("No")
        sound = _("On") if s.sound_enabled else _("Off")
        fixed = (
            Button(
                self.settings_cells[5],
                _("Forget fixed board\n({pattern})").format(pattern=s.fixed_pattern),
                session.admin_forget_fixed_board,
                name="forget_board",
            )
            if s.fixed_pattern
            else Button(
                self.settings_cells[5],
                _("Pair a fixed\nmicro:bit"),
                session.admin_pair_fixed_board,
                name="pair_fixed",
            )
        )
        rotate_label, rotate_style = confirming(
            session,
            "rotate",
            _("Screen rotation:\n{degrees} degrees").format(degrees=s.rotation),
            "normal",
        )
        wipe_label, wipe_style = confirming(
            session,
            "delete_all",
            ngettext(
                "Delete all {count}\nrecording now",
                "Delete all {count}\nrecordings now",
                session.data.n_recordings,
            ).format(count=session.data.n_recordings),
            "danger",
        )
        exit_label, exit_style = confirming(session, "exit_shell", _("Exit to shell"), "danger")
        return [
            Button(
                self.settings_cells[0],
                _("Keep data between\nvisitors: {answer}").format(answer=keep),
                lambda: session.admin_set_keep_data(not s.keep_data_between_visitors),
                name="keep_data",
            ),
            Button(
                self.settings_cells[1],
                _("Reset after no use:\n{seconds} s").format(seconds=int(s.idle_timeout_s)),
                session.admin_cycle_idle_timeout,
                name="idle_timeout",
            ),
            Button(
                self.settings_cells[2],
                _("Sound: {answer}").format(answer=sound),
                lambda: session.admin_set_sound(not s.sound_enabled),
                name="sound",
            ),
            Button(
                self.settings_cells[3],
                rotate_label,
                session.admin_rotate,
                rotate_style,
                name="rotate",
            ),
            Button(
                self.settings_cells[4],
                wipe_label,
                session.admin_wipe_now,
                wipe_style,
                name="wipe",
            ),
            fixed,
            Button(
                self.settings_cells[6],
                _("Add a move name"),
                session.admin_open_keyboard,
                name="keyboard",
            ),
            Button(
                self.settings_cells[7],
                exit_label,
                session.admin_exit_to_shell,
                exit_style,
                name="exit",
            ),
            Button(
                self.settings_cells[8],
                _("Teacher mode: {state}\n(choose the model)").format(
                    state=_("On") if s.teacher_mode else _("Off")
                ),
                lambda: session.admin_set_teacher_mode(not s.teacher_mode),
                name="teacher_mode",
            ),
            Button(
                self.settings_cells[9],
                _("USB stick\n(import, export)"),
                session.admin_usb_open,
                name="usb",
            ),
            Button(
                self.snapshot_cells[0],
                _("Save these\nrecordings"),
                session.admin_save_snapshot if session.data.n_recordings else None,
                name="save_snapshot",
            ),
            Button(
                self.snapshot_cells[1],
                _("Compare\nsets"),
                session.admin_open_compare,
                name="compare",
            ),
            Button(
                self.snapshot_cells[2],
                _("Prepare a\nmicro:bit"),
                session.admin_prepare_board,
                name="prepare_board",
            ),
            Button(
                self.frame.primary, _("Close"), session.close_admin, "primary", name="close_admin"
            ),
            # The language each visitor starts in, where "Start again" is on other screens.
            Button(
                self.frame.start_again,
                _("Language:\n{name}").format(name=i18n.language_name(s.language)),
                session.admin_cycle_language,
                name="language_default",
            ),
        ]

    def _usb_buttons(self, session: Session) -> list[Button]:
        usb = session.usb
        idle = usb.working is None  # a write under way takes no other tap
        out = [
            Button(
                self.frame.primary, _("Back"), session.admin_usb_close, "primary", name="usb_back"
            ),
            Button(
                self.usb_export_rect,
                _("Export to stick"),
                session.admin_usb_export if usb.stick is not None and idle else None,
                name="usb_export",
            ),
        ]
        if len(usb.files) > FILES_PER_PAGE:
            out.append(
                Button(
                    self.usb_more_rect,
                    _("More files"),
                    session.admin_usb_next_page,
                    name="usb_more",
                )
            )
        for i, (path, cell) in enumerate(zip(usb.shown_files, self.usb_cells, strict=False)):
            label, style = confirming(session, f"usb_import:{path}", usb.file_label(path), "normal")
            out.append(
                Button(
                    cell,
                    label,
                    partial(session.admin_usb_import, path) if idle else None,
                    style,
                    name=f"usb_file_{i}",
                )
            )
        return out

    def _draw_usb(self, surface: pygame.Surface, session: Session) -> None:
        """The stick's line and the last outcome in the side panel; the body when it is empty."""
        m, usb = self.m, session.usb
        if usb.stick is None:
            where = _("No USB stick found. Put one in: it appears here by itself.")
        else:
            where = ngettext(
                "Stick at {place}: {n} CreateAI file. Tap a file to make it the current moves.",
                "Stick at {place}: {n} CreateAI files. Tap a file to make it the current moves.",
                len(usb.files),
            ).format(place=usb.stick, n=len(usb.files))
            pages = -(-len(usb.files) // FILES_PER_PAGE)
            if pages > 1:
                where += " " + _("Page {page} of {pages}.").format(page=usb.page + 1, pages=pages)
        colour = theme.TEXT_DIM
        if usb.working is not None:
            where, colour = usb.working, theme.TEXT
        elif usb.outcome is not None:
            where = usb.outcome.text
            colour = theme.GOOD if usb.outcome.good else theme.PROBLEM
        draw.panel(surface, self.usb_info)
        draw.wrapped(
            surface, self.cache, where, m.small_px, colour, inset(self.usb_info, m.gap * 2)
        )
        if usb.stick is not None and not usb.files:
            draw.wrapped(
                surface,
                self.cache,
                _("No CreateAI dataset files (.json) on this stick."),
                m.body_px,
                theme.TEXT_DIM,
                self.frame.body,
            )
        elif usb.stick is None:
            draw.wrapped(
                surface,
                self.cache,
                _("Waiting for a USB stick…"),
                m.body_px,
                theme.TEXT_DIM,
                self.frame.body,
            )

    def _compare_buttons(self, session: Session) -> list[Button]:
        compare = session.staff.compare
        out = [
            Button(
                self.frame.primary,
                _("Back"),
                session.admin_close_compare,
                "primary",
                name="compare_back",
            )
        ]
        if compare.comparison is not None:
            again = compare.picked[-1]
            out.append(
                Button(
                    self.learn_rect,
                    _("Pick again"),
                    lambda: session.admin_compare_pick(again),
                    name="compare_again",
                )
            )
            return out
        for choice, cell in zip(compare.choices[:MAX_SETS_SHOWN], self.set_cells, strict=False):
            out.append(
                Button(
                    cell,
                    ngettext(
                        "{name}\n{count} recording", "{name}\n{count} recordings", choice.recordings
                    ).format(name=choice.name, count=choice.recordings),
                    None if compare.busy else partial(session.admin_compare_pick, choice.id),
                    "selected" if choice.id in compare.picked else "normal",
                    name=f"set_{choice.id}",
                )
            )
        ready = len(compare.picked) == 2 and not compare.busy
        out.append(
            Button(
                self.learn_rect,
                _("Learn both"),
                session.admin_compare_start if ready else None,
                "primary",
                name="compare_start",
            )
        )
        return out

    def draw_title(self, surface: pygame.Surface, words: str) -> None:
        if words != _("Add a move name"):  # the keyboard needs the whole screen; its field says it
            super().draw_title(surface, words)

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        m = self.m
        if not session.staff.unlocked:
            typed = len(session.staff.pin_entry)
            dots = "*" * min(typed, MAX_DIGITS) + "-" * max(0, 4 - typed)
            draw.panel(surface, self.pin_side)
            draw.text(
                surface, self.cache, dots, m.title_px, theme.TEXT, self.pin_side.center, "center"
            )
            return
        if session.staff.keyboard_open:
            shown = _("New move name: {name}").format(name=session.staff.keyboard_text) + "_"
            draw_field(surface, self.cache, self.keyboard.field, shown, m.title_px)
            return
        if session.staff.compare.open:
            self._draw_compare_note(surface, session)
            return
        if session.board_prep.open:
            board_prep_view.draw_side(
                surface, self.cache, session, self.frame.side, m.small_px, m.gap
            )
            return
        if session.usb.open:
            self._draw_usb(surface, session)
            return
        link = session.link.description if session.link is not None else _("no micro:bit connected")
        counts = ngettext("{count} move", "{count} moves", len(session.data.actions)).format(
            count=len(session.data.actions)
        ) + ngettext(
            ", {count} recording", ", {count} recordings", session.data.n_recordings
        ).format(count=session.data.n_recordings)
        where = session.settings_file.path
        if where is None:
            kept = _("Changes are not saved (no settings file).")
        elif session.settings_file.writable():
            kept = _("Changes are saved in {file}.").format(file=where.name)
        else:
            kept = _("Changes last until the next restart ({file} cannot be written).").format(
                file=where.name
            )
        info = _("{counts}. Board: {board}. {kept}").format(counts=counts, board=link, kept=kept)
        startup = session.startup
        colour = theme.TEXT_DIM
        if startup is not None and not startup.clean:  # staff must see this first
            info = _("At start-up: {summary}.").format(summary=startup.summary_shown) + " " + info
            colour = theme.PROBLEM
        if session.faults.faults:  # first: it is what staff came to read (also in the log)
            info = _("Fault: {detail}").format(detail=session.faults.faults[0]) + " " + info
        draw.panel(surface, self.info_rect)
        draw.wrapped(
            surface, self.cache, info, m.small_px, colour, inset(self.info_rect, m.gap * 2)
        )

    def _draw_compare_note(self, surface: pygame.Surface, session: Session) -> None:
        m, compare = self.m, session.staff.compare
        if compare.error:
            words, colour = compare.error, theme.PROBLEM
        elif compare.comparison is not None:
            words, colour = (
                _("Move the micro:bit: both models answer the same movement."),
                theme.TEXT_DIM,
            )
        elif len(compare.choices) < 2:
            words, colour = (
                _(
                    "Only one set so far. Go back and tap \u201cSave these recordings\u201d, "
                    "record more, then compare."
                ),
                theme.TEXT_DIM,
            )
        else:
            words, colour = _("Pick two sets, then tap \u201cLearn both\u201d."), theme.TEXT_DIM
        draw.panel(surface, self.compare_note)
        draw.wrapped(
            surface, self.cache, words, m.small_px, colour, inset(self.compare_note, m.gap * 2)
        )

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        compare = session.staff.compare
        if not (session.staff.unlocked and compare.open):
            return
        job = compare.job
        if job is not None:  # both sets are learning: a bar and the step, over the note
            m = self.m
            area = inset(self.compare_note, m.gap * 2)
            pygame.draw.rect(surface, theme.PANEL, area)
            bar = Rect(area.left, area.centery, area.width, max(16, m.unit // 4))
            draw.bar(surface, bar, job.progress, theme.ACCENT)
            draw.wrapped(
                surface,
                self.cache,
                job.stage,
                m.small_px,
                theme.TEXT,
                Rect(area.left, area.top, area.width, bar.top - area.top - m.gap),
            )
            return
        pictures = compare.pictures()
        if pictures is not None:
            pygame.draw.rect(surface, theme.BACKGROUND, self.frame.body)
            explain_views.draw_comparison(surface, self.frame.body, self.cache, pictures)
