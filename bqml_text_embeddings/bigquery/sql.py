"""Renders the statements in sql/*.sql.

Parameters are substituted only after a second, local check of each value
(config is validated already; this keeps any future caller from opening an
injection). A value is a plain token (identifier path, gs:// path, URL,
@parameter or integer: no quote, backslash, whitespace or comment mark can
leave its place), matched whole; where the template puts it outside quotes it
must be a single identifier, @parameter or whole number, so that it cannot
open a comment (`--`, `/*`) or otherwise change the statement's tokens. A
statement is composed from smaller templates by passing one rendered
`Fragment` as a parameter of another; nothing else may carry spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from string import Template

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"  # package data
_PLAIN = re.compile(r"[A-Za-z0-9_.:/*@-]+")
# Outside quotes: one identifier, @parameter or whole number (a sign or a dot could join the template's tokens).
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|@[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_QUOTES = {"'": "string", '"': "string", "`": "identifier"}
_SEPARATORS = (", ", " AND ")


class UnsafeSqlParameter(ValueError):
    pass


class Fragment(str):
    """SQL that came out of `render`: safe to pass as a parameter of another template."""


def render(template: str, **params: str | int) -> Fragment:
    text, places = _template(template)
    if set(params) != set(places):
        raise TypeError(f"sql/{template}.sql takes {sorted(places)}, got {sorted(params)}")
    for name, value in params.items():
        if isinstance(value, Fragment):
            continue
        problem = _problem(value, places[name])
        if problem:
            raise UnsafeSqlParameter(f"sql/{template}.sql: parameter {name}={value!r} {problem}")
    # A fragment loses its trailing newline so that `(${rows}))` reads as one line.
    values = {name: value.rstrip() if isinstance(value, Fragment) else str(value) for name, value in params.items()}
    return Fragment(text.substitute(values))


def _problem(value: object, places: frozenset[str]) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not _PLAIN.fullmatch(str(value)):
        return "is not a plain token"
    if "bare" in places and not _BARE.fullmatch(str(value)):
        return "stands outside quotes and is not one identifier, @parameter or whole number"
    if "block comment" in places and "*/" in str(value):
        return "would end the comment it stands in"
    return None


@cache
def _template(name: str) -> tuple[Template, dict[str, frozenset[str]]]:
    """A template and, for each of its parameters, where it stands: bare, string, identifier, line or block comment."""
    text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
    template = Template(text)
    places: dict[str, set[str]] = {}
    state, at = "bare", 0
    while at < len(text):
        if text[at] == "$":
            found = template.pattern.match(text, at)
            assert found is not None  # the pattern matches any `$` (an invalid one as such)
            parameter = found["named"] or found["braced"]
            if parameter:
                places.setdefault(parameter, set()).add(state)
            at = max(found.end(), at + 1)
            continue
        state, at = _step(text, at, state)
    return template, {parameter: frozenset(where) for parameter, where in places.items()}


def _step(text: str, at: int, state: str) -> tuple[str, int]:
    """The lexical state after the character(s) at `at`, and where to look next."""
    char, pair = text[at], text[at : at + 2]
    if state == "bare":
        if char in _QUOTES:
            return f"{_QUOTES[char]} {char}", at + 1
        if pair in ("--", "/*"):
            return ("line comment" if pair == "--" else "block comment"), at + 2
        if char == "#":
            return "line comment", at + 1
        return state, at + 1
    if state == "line comment":
        return ("bare" if char == "\n" else state), at + 1
    if state == "block comment":
        return ("bare", at + 2) if pair == "*/" else (state, at + 1)
    if char == "\\":  # an escape inside a string or quoted identifier
        return state, at + 2
    return ("bare" if char == state[-1] else state), at + 1


def join(fragments: Iterable[Fragment], separator: str) -> Fragment:
    """Rendered fragments joined by a list separator (", ") or a conjunction (" AND ")."""
    parts = list(fragments)
    if separator not in _SEPARATORS or not parts or not all(isinstance(part, Fragment) for part in parts):
        raise TypeError(f"join takes rendered fragments and one of {_SEPARATORS}")
    return Fragment(separator.join(part.strip() for part in parts))


def union_all(queries: Iterable[Fragment]) -> Fragment:
    """Rendered queries stacked with UNION ALL."""
    parts = list(queries)
    if not parts or not all(isinstance(part, Fragment) for part in parts):
        raise TypeError("union_all takes one or more rendered fragments")
    return Fragment("\nUNION ALL\n".join(part.strip().rstrip(";") for part in parts))
