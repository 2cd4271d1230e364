"""No word on the touchscreen escapes the catalogs: an AST check of what kiosk/ui draws.

Every visitor- or staff-facing text in ``kiosk/ui`` reaches the screen through
a few calls: ``draw.text`` and ``draw.wrapped`` (the words), ``TextCache.render``
and ``fit_size``, a ``Button``'s label, ``confirming``'s words and the explain
views' ``_text``; and a scene's ``title``. Text given to them as a literal
(a plain string or an f-string with words in it) was never passed through
``_``. Literals without letters ("*", "5", "") are not words. Separately, a
function that calls ``_()`` must not also bind ``_`` (``x, _ = ...``): the
call would then reach the throwaway value, not the translation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

UI = REPO_ROOT / "kiosk" / "ui"
KIOSK = REPO_ROOT / "kiosk"

# call name -> which positional argument (0-based) is the text, and its keyword name
TEXT_ARGS: dict[str, tuple[int, str]] = {
    "text": (2, "words"),  # draw.text(surface, cache, words, ...)
    "wrapped": (2, "words"),  # draw.wrapped(surface, cache, words, ...)
    "render": (0, "text"),  # cache.render(text, ...)
    "fit_size": (0, "text"),  # cache.fit_size(text, ...)
    "Button": (1, "label"),  # Button(rect, label, ...)
    "confirming": (2, "words"),  # confirming(session, key, words, style)
    "_text": (2, "words"),  # explain_views._text(surface, text, words, ...)
}
_WORD = re.compile(r"[A-Za-z]{2,}")


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _literal_words(node: ast.expr) -> str | None:
    """The words of a literal that were never translated, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _WORD.search(node.value) else None
    if isinstance(node, ast.JoinedStr):
        parts = [v.value for v in node.values if isinstance(v, ast.Constant)]
        joined = "".join(str(p) for p in parts)
        return joined if _WORD.search(joined) else None
    if isinstance(node, ast.IfExp):
        return _literal_words(node.body) or _literal_words(node.orelse)
    if isinstance(node, ast.BinOp):
        return _literal_words(node.left) or _literal_words(node.right)
    return None


def untranslated(source: str) -> list[tuple[int, str]]:
    """(line, words) of every literal handed straight to a drawing or label call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _name(node.func) in TEXT_ARGS:
            index, keyword = TEXT_ARGS[_name(node.func)]
            args = [node.args[index]] if len(node.args) > index else []
            args += [k.value for k in node.keywords if k.arg == keyword]
            for arg in args:
                words = _literal_words(arg)
                if words is not None:
                    found.append((arg.lineno, words))
        if isinstance(node, ast.ClassDef):  # a scene's title = "..." (not N_("..."))
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "title" for t in item.targets)
                    and _literal_words(item.value) is not None
                ):
                    found.append((item.lineno, str(_literal_words(item.value))))
    return found


def _own_scope(function: ast.AST):
    """The nodes of a function, not of the comprehensions, lambdas or functions inside it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(
            node,
            ast.ListComp
            | ast.SetComp
            | ast.DictComp
            | ast.GeneratorExp
            | ast.Lambda
            | ast.FunctionDef
            | ast.AsyncFunctionDef,
        ):
            stack.extend(ast.iter_child_nodes(node))


def hidden_translations(source: str) -> list[tuple[int, str]]:
    """(line, function) of every function that calls ``_()`` and also binds ``_``."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        nodes = list(_own_scope(function))
        calls = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
            for n in nodes
        )
        binds = [
            n.lineno
            for n in nodes
            if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
        ]
        if calls and binds:
            found.append((binds[0], function.name))
    return found


def _files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


@pytest.mark.parametrize("path", _files(UI), ids=lambda p: str(p.relative_to(UI)))
def test_no_literal_words_reach_the_screen(path: Path) -> None:
    assert untranslated(path.read_text()) == [], f"{path}: wrap these in _() (or N_ + _)"


def test_every_text_reaching_the_screen_is_checked() -> None:
    """The check finds what it is for (so a pass means something)."""
    source = """
class S:
    title = "Record each move"
    other = N_("Fine")

def draw_it(surface, cache, session, n):
    draw.text(surface, cache, "Touch to start", 20, ink, at)
    draw.wrapped(surface, cache, f"{n} moves picked", 20, ink, rect)
    Button(rect, "Try again" if n else _("Connect"), None)
    cache.fit_size(_("Fine"), 20, 100)
    confirming(session, "rotate", f"Screen rotation:\\n{n} degrees", "normal")
    Button(rect, "", None, "bare", name="cell")
    draw.text(surface, cache, "*" * n, 20, ink, at)
    draw.text(surface, cache, str(n), 20, ink, at)
"""
    assert [line for line, _words in untranslated(source)] == [3, 7, 8, 9, 11]


@pytest.mark.parametrize("path", _files(KIOSK), ids=lambda p: str(p.relative_to(KIOSK)))
def test_no_function_hides_the_translation_function(path: Path) -> None:
    assert hidden_translations(path.read_text()) == []


def test_a_hidden_translation_function_is_found() -> None:
    source = """
def bad(rect):
    button_rect, _ = split(rect)
    return Button(button_rect, _("Connect again"))

def fine(items):
    joined = " ".join(w for _, w in items)
    return _(joined)
"""
    assert hidden_translations(source) == [(3, "bad")]
