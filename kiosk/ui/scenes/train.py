"""Train screen: progress while the model learns, then an honest score and a confusion matrix.

While it learns, the training job's own stages are listed as they happen and
the one under way is marked (no made-up percentage: the stages have no steps
to count). The model comes first: as soon as it is here "Test it" works and
the list goes on with the score being measured. The score is cross-validated:
every recording is judged by a model that never saw it, so it is what to
expect from new movements. The confusion matrix names the moves on both axes
("you did" down, "it guessed" across); after a weak score, one sentence names
the mix-up that matters and what to do.

Once scored, tabs above the score let the visitor explore what the model
learned: a map of every recording (mistakes marked), which squares each move
needs, and the average fingerprints (labelled as averages). The pictures are
computed by the session off the UI thread; this scene only draws them.

In teacher mode (a staff setting) two buttons beside the score choose the
model, "Network" or "Nearest neighbours", each showing its own honest score
once it has been trained on these recordings (``kiosk.session.model_choice``);
the score line then names the model it is about.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pygame

from kiosk.i18n import N_, _, ngettext
from kiosk.ml.train_worker import Stage
from kiosk.session.advice import confusion_advice
from kiosk.session.explore import ExploreView
from kiosk.session.model_choice import NEIGHBOURS, NETWORK, model_name, model_sentence
from kiosk.session.screens import Screen
from kiosk.session.session import Session
from kiosk.session.training import TrainingJob
from kiosk.ui import draw, explain_views, theme
from kiosk.ui.geometry import Rect, columns, inset, take_bottom, take_top
from kiosk.ui.scenes.base import Scene
from kiosk.ui.text import TextCache
from kiosk.ui.widgets import Button

TABS = (
    (None, N_("Score")),
    (ExploreView.MAP, N_("Map")),
    (ExploreView.SQUARES, N_("Squares")),
    (ExploreView.AVERAGES, N_("Averages")),
)


# The training job's stages, in the order they happen (``kiosk.ml.train_worker.Stage``).
# "Starting" is listed only when the job really waited for its process to get ready.
STAGES = (
    (Stage.FEATURES, N_("Measuring the fingerprints")),
    (Stage.STARTING, N_("Waking up the learning helper")),
    (Stage.MODEL, N_("Learning from all your recordings")),
    (Stage.EXPORT, N_("Getting the model ready")),
    (Stage.SCORE, N_("Testing how well it learns")),
)


def stage_rows(job: TrainingJob | None, scoring: bool) -> list[tuple[str, str]]:
    """(words, state) per stage to list; state is "done", "now" or "next".

    ``scoring``: the model is here and only the score is still to come.
    """
    seen = list(job.stages) if job is not None else []
    at = job.stage if job is not None else Stage.SCORE
    if scoring and Stage.ORDER.index(at) < Stage.ORDER.index(Stage.SCORE):
        at = Stage.SCORE  # the model is here: whatever the log says, that much is done
    rows = []
    for key, words in STAGES:
        if key == Stage.STARTING and key not in seen:
            continue
        order, now = Stage.ORDER.index(key), Stage.ORDER.index(at)
        rows.append((words, "done" if order < now else "now" if order == now else "next"))
    return rows


def accuracy_sentence(correct: int, total: int) -> str:
    """The honest score in words a child reads: N of M recordings the model had not seen."""
    return ngettext(
        "It got {correct} of {total} right on recordings it had not seen.",
        "It got {correct} of {total} right on recordings it had not seen.",
        total,
    ).format(correct=correct, total=total)


class TrainScene(Scene):
    screen = Screen.TRAIN
    title = N_("The computer is learning")

    def title_for(self, session: Session) -> str:
        if session.learning.scoring and session.learning.training is None:
            return _("It has learned your moves")
        if session.learning.trained is not None and session.learning.training is None:
            if session.learning.explore.view is not None:
                return _("What did it learn?")
            return _("How well did it learn?")
        return _(self.title)

    def arrange(self) -> None:
        m, f = self.m, self.frame
        self.tabs_rect, self.tab_body = take_top(f.body, m.unit, m.gap)
        self.tab_rects = columns(self.tabs_rect, [1] * len(TABS), m.gap)
        self.headline, self.matrix_area = take_top(self.tab_body, int(m.body_px * 2.6), m.gap)
        self.more_rect, self.note_rect = take_bottom(f.side, m.unit, m.gap)
        # Teacher mode: the two models above "Record more", side by side where the panel
        # is wide (portrait), else one above the other.
        if self.note_rect.width >= 4 * m.unit:
            row, self.choice_note_rect = take_bottom(self.note_rect, m.unit, m.gap)
            self.choice_rects = columns(row, [1, 1], m.gap)
        else:
            second, rest = take_bottom(self.note_rect, m.unit, m.gap)
            first, self.choice_note_rect = take_bottom(rest, m.unit, m.gap)
            self.choice_rects = [first, second]

    @staticmethod
    def _showing_results(session: Session) -> bool:
        trained = session.learning.trained
        return session.learning.training is None and trained is not None and trained.scored

    @staticmethod
    def _progress_job(session: Session) -> TrainingJob | None:
        """The job whose stages to list: still learning, or the score still to come."""
        learning = session.learning
        if learning.training is not None:
            return learning.training
        return learning.streaming if learning.scoring else None

    @staticmethod
    def _choosing(session: Session) -> bool:
        """Teacher mode, with a model trained or learning: the two models are on offer."""
        learning = session.learning
        return session.settings.teacher_mode and (
            learning.training is not None or learning.trained is not None
        )

    def _note_rect(self, session: Session) -> Rect:
        return self.choice_note_rect if self._choosing(session) else self.note_rect

    def static_key(self, session: Session):
        explore = session.learning.explore
        return (
            self._choosing(session),
            session.learning.choice.kind,
            session.learning.training is None,
            session.learning.scoring,
            session.learning.trained is not None and id(session.learning.trained),
            session.learning.training_error,
            explore.view,
            explore.result is not None and id(explore.result),
            explore.busy,
        )

    def scene_buttons(self, session: Session) -> list[Button]:
        busy = session.learning.training is not None
        out = self._choice_buttons(session) if self._choosing(session) else []
        if self._showing_results(session):
            for (view, label), rect in zip(TABS, self.tab_rects, strict=True):
                chosen = view == session.learning.explore.view
                tap = session.close_explore if view is None else partial(session.show_explore, view)
                out.append(
                    Button(
                        rect,
                        _(label),
                        tap,
                        "selected" if chosen else "quiet",
                        name=f"tab_{label.lower()}",
                    )
                )
            page = self._square_page(session)
            if page is not None:
                out.append(
                    Button(
                        self.tab_body,
                        "",
                        None,
                        "bare",
                        name="explore_squares",
                        on_drag=partial(_explain_row_square, session, self.tab_body, *page),
                    )
                )
        out += [
            Button(
                self.more_rect,
                _("Record more"),
                None if busy else session.add_more_recordings,
                "normal",
                name="record_more",
            )
        ]
        if session.learning.training_error and not busy:
            out.append(
                Button(
                    self.frame.primary,
                    _("Try again"),
                    session.train,
                    "primary",
                    name="train_again",
                )
            )
        else:
            ready = session.learning.trained is not None and not busy
            out.append(
                Button(
                    self.frame.primary,
                    _("Test it"),
                    session.test,  # still learning: the session says so
                    "primary",
                    name="test",
                    dimmed=not ready,
                )
            )
        return out

    def _square_page(self, session: Session) -> tuple[TextCache, float, int] | None:
        """The shown page's rows of fingerprints (text, size share, rows), if it has them."""
        explore = session.learning.explore
        found = explore.result
        if found is None:
            return None
        if explore.view == ExploreView.SQUARES and found.importance is not None:
            share = explain_views.IMPORTANCE_SHARE
        elif explore.view == ExploreView.AVERAGES:
            share = explain_views.AVERAGES_SHARE
        else:
            return None
        return self.cache, share, len(found.class_names)

    def _choice_buttons(self, session: Session) -> list[Button]:
        """One button per model: its name and, once trained on these recordings, its score."""
        learning = session.learning
        job = learning.streaming  # until its score is here too
        out = []
        for kind, rect in zip((NETWORK, NEIGHBOURS), self.choice_rects, strict=True):
            score = learning.choice.score(kind, session.data.version)
            if job is not None and job.kind == kind:
                second = _("learning…")
            elif score is not None:
                second = _("{correct} of {total} right").format(
                    correct=score.correct, total=score.total
                )
            else:
                second = _("tap to try")
            chosen = learning.choice.kind == kind
            out.append(
                Button(
                    rect,
                    f"{model_name(kind)}\n{second}",
                    None if job is not None else partial(session.choose_model, kind),
                    "selected" if chosen else "normal",
                    name=f"model_{kind}",
                )
            )
        return out

    def draw_background(self, surface: pygame.Surface, session: Session) -> None:
        m = self.m
        if session.learning.training is not None:
            note = _("It is looking for what makes each of your moves different.")
            draw.wrapped(
                surface, self.cache, note, m.body_px, theme.TEXT_DIM, self._note_rect(session)
            )
            return
        if session.learning.scoring:
            note = _("You can test it now. Its score is on the way.")
            draw.wrapped(surface, self.cache, note, m.body_px, theme.GOOD, self._note_rect(session))
            return
        if session.learning.training_error:
            draw.wrapped(
                surface,
                self.cache,
                session.learning.training_error,
                m.body_px,
                theme.PROBLEM,
                self.frame.body,
            )
            return
        result = session.learning.trained
        if result is None:
            return
        if session.learning.explore.view is not None:
            self._draw_explore(surface, session)
            return
        evaluation = result.evaluation
        if evaluation is None:  # it could not be measured (say, one recording of a move)
            words = _("It learned, but how well could not be measured: {reason}").format(
                reason=result.score_problem or ""
            )
            draw.wrapped(surface, self.cache, words, m.body_px, theme.ACCENT, self.headline)
            return
        confusion = np.asarray(evaluation.confusion)
        correct, total = int(np.trace(confusion)), int(confusion.sum())
        colour = theme.GOOD if correct >= 0.8 * total else theme.ACCENT
        headline = accuracy_sentence(correct, total)
        if self._choosing(session):  # two models on offer: say which one this score is
            headline = _("{model}: {score}").format(
                model=model_name(result.model.kind), score=headline
            )
        draw.wrapped(surface, self.cache, headline, m.body_px, colour, self.headline)
        self._draw_matrix(surface, session, confusion)
        advice = confusion_advice(confusion, [a.name for a in session.data.actions])
        note = advice or _("Green squares: right guesses.")
        if self._choosing(session) and not advice:
            note = model_sentence(result.model.kind)
        draw.wrapped(
            surface,
            self.cache,
            note,
            m.small_px,
            theme.ACCENT if advice else theme.TEXT_DIM,
            self._note_rect(session),
        )

    def _draw_explore(self, surface: pygame.Surface, session: Session) -> None:
        """One explore page in the body, and a line beside it saying how to read it."""
        m, explore = self.m, session.learning.explore
        area, view, found = self.tab_body, explore.view, explore.result
        names = found.class_names if found is not None else ()
        if found is None or (view == ExploreView.SQUARES and found.importance is None):
            waiting = (
                _("Working out which squares each move needs…")
                if explore.busy
                else _("These pictures are not ready. Train again to see them.")
            )
            draw.wrapped(surface, self.cache, waiting, m.body_px, theme.TEXT_DIM, area)
            return
        if view == ExploreView.MAP:
            explain_views.draw_data_map(surface, area, self.cache, found.map_picture)
            note = _(
                "Each dot is one of your recordings. Dots close together have similar "
                "fingerprints. A cross: the computer got that one wrong when tested."
            )
        elif view == ExploreView.SQUARES and found.importance is not None:  # checked above
            explain_views.draw_global_importance(surface, area, self.cache, found.importance, names)
            note = _(
                "Bright squares: the computer gets that move wrong if it cannot see them. "
                "Dark squares hardly matter."
            )
        else:
            explain_views.draw_average_fingerprints(
                surface, area, self.cache, found.averages, names
            )
            note = _(
                "The average of each move's recordings. The computer never sees an "
                "average: it learns from every single recording."
            )
        draw.wrapped(
            surface, self.cache, note, m.small_px, theme.TEXT_DIM, self._note_rect(session)
        )

    def _draw_matrix(
        self, surface: pygame.Surface, session: Session, confusion: np.ndarray
    ) -> None:
        """Rows: what you did; columns: what it guessed; both named (columns written upwards)."""
        m = self.m
        k = confusion.shape[0]
        names = [a.name for a in session.data.actions][:k]
        font = self.cache.font(m.small_px)
        name_w = max(font.size(n)[0] for n in names) + m.gap
        line = font.get_linesize()
        box = self.matrix_area
        # "it guessed" and the column names (turned) above; "you did" and row names left.
        top = box.top + line + name_w
        left = box.left + line + m.gap + name_w
        cell = max(8, min((box.right - left) // k, (box.bottom - top) // k, m.unit))
        grid = Rect(left, top, cell * k, cell * k)
        draw.text(
            surface,
            self.cache,
            _("it guessed"),
            m.small_px,
            theme.TEXT_DIM,
            (grid.centerx, box.top),
            "midtop",
        )
        did = pygame.transform.rotate(
            self.cache.render(_("you did"), m.small_px, theme.TEXT_DIM), 90
        )
        surface.blit(did, did.get_rect(midleft=(box.left, grid.centery)))
        row_totals = confusion.sum(axis=1)
        for i in range(k):
            draw.text(
                surface,
                self.cache,
                names[i],
                m.small_px,
                theme.TEXT,
                (grid.left - m.gap, grid.top + cell * i + cell // 2),
                "midright",
            )
            turned = pygame.transform.rotate(
                self.cache.render(names[i], m.small_px, theme.TEXT), 90
            )
            surface.blit(
                turned,
                turned.get_rect(midbottom=(grid.left + cell * i + cell // 2, grid.top - m.gap)),
            )
            for j in range(k):
                rect = Rect(grid.left + cell * j, grid.top + cell * i, cell, cell).inflate(-4, -4)
                count = int(confusion[i, j])
                share = count / row_totals[i] if row_totals[i] else 0.0
                if i == j:
                    fill = tuple(
                        int(
                            theme.PANEL[c]
                            + (theme.GOOD[c] - theme.PANEL[c]) * (0.35 + 0.65 * share)
                        )
                        for c in range(3)
                    )
                elif count:
                    fill = tuple(
                        int(
                            theme.PANEL[c]
                            + (theme.PROBLEM[c] - theme.PANEL[c]) * (0.35 + 0.65 * share)
                        )
                        for c in range(3)
                    )
                else:
                    fill = theme.PANEL
                pygame.draw.rect(surface, fill, rect, border_radius=6)
                size = max(self.cache.floor, min(m.title_px, int(cell * 0.45)))
                draw.text(surface, self.cache, str(count), size, theme.TEXT, rect.center, "center")

    def draw_dynamic(self, surface: pygame.Surface, session: Session, now: float) -> None:
        job = self._progress_job(session)
        if job is None:
            return
        m = self.m
        area = inset(self.frame.body, m.gap)
        pygame.draw.rect(surface, theme.BACKGROUND, area)
        # The job's stages as a list: done ones ticked, the one under way marked and
        # pulsing. Honest: it moves when the job moves, and never pretends a percentage.
        line = int(self.cache.font(m.body_px).get_linesize() * 1.3)
        y = area.top + m.gap
        for key_words, state in stage_rows(job, session.learning.scoring):
            words = _(key_words)
            colour = {"done": theme.GOOD, "now": theme.ACCENT}.get(state, theme.TEXT_DIM)
            dot = (area.left + line // 2, y + line // 2)
            if state == "done":
                pygame.draw.circle(surface, theme.GOOD, dot, line // 3)
            elif state == "now":
                radius = int(line / 3 * (0.75 + 0.25 * math.sin(now * 6.0)))
                pygame.draw.circle(surface, theme.ACCENT, dot, max(3, radius))
            else:
                pygame.draw.circle(surface, theme.PANEL_LIGHT, dot, line // 3, 2)
            words = _(words)
            size = self.cache.fit_size(words, m.body_px, area.width - line - m.gap)
            draw.text(surface, self.cache, words, size, colour, (area.left + line + m.gap, y))
            y += line
        bar_rect = Rect(area.left, y, area.width, 0)  # the row of moves goes under the list
        # The moves in a row under the list, the computer "looking at" each in turn: a
        # highlight steps along while the worker learns, so the screen is plainly busy.
        icons = [a.icon for a in session.data.actions]
        n = max(1, len(icons))
        side = max(24, min(m.unit, int(area.width / (n * 1.4))))
        pitch = int(side * 1.3)
        first_x = area.centerx - (pitch * (n - 1)) // 2
        top = bar_rect.bottom + m.gap * 2
        looking = int(now * 3) % n
        for i, icon in enumerate(icons):
            tile = Rect(0, 0, side, side)
            tile.midtop = (first_x + i * pitch, top - (m.gap if i == looking else 0))
            if tile.bottom > area.bottom:
                break  # no room under the bar (a very short screen): the bar says enough
            draw.panel(surface, tile, theme.PANEL_LIGHT if i == looking else theme.PANEL)
            if i == looking:
                pygame.draw.rect(surface, theme.ACCENT, tile, 3, border_radius=10)
            draw.led_icon(surface, tile.inflate(-side // 5, -side // 5), icon)


def _explain_row_square(
    session: Session,
    page: Rect,
    cache: TextCache,
    share: float,
    rows: int,
    pos: tuple[int, int],
) -> None:
    """A finger on one of the page's fingerprints: the session says what that square measures."""
    index = explain_views.square_in_rows(page, cache, share, rows, pos)
    if index is not None:
        session.explain_square(index)
