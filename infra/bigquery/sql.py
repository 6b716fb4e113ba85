"""Renders the statements in sql/*.sql.

Parameters are substituted only after a second, local check that each value
is a plain token (identifier path, gs:// path, URL, @parameter or integer):
config is validated already, this keeps any future caller from opening an
injection. A statement is composed from smaller templates by passing one
rendered `Fragment` as a parameter of another; nothing else may carry spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from string import Template

from infra.config import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"
_PLAIN = re.compile(r"^[A-Za-z0-9_.:/*@-]+$")
_SEPARATORS = (", ", " AND ")


class UnsafeSqlParameter(ValueError):
    pass


class Fragment(str):
    """SQL that came out of `render`: safe to pass as a parameter of another template."""


def render(template: str, **params: str | int) -> Fragment:
    text = Template((SQL_DIR / f"{template}.sql").read_text(encoding="utf-8"))
    wanted = set(text.get_identifiers())
    if set(params) != wanted:
        raise TypeError(f"sql/{template}.sql takes {sorted(wanted)}, got {sorted(params)}")
    for name, value in params.items():
        if isinstance(value, Fragment):
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not _PLAIN.match(str(value)):
            raise UnsafeSqlParameter(f"sql/{template}.sql: parameter {name}={value!r} is not a plain token")
    # A fragment loses its trailing newline so that `(${rows}))` reads as one line.
    values = {name: value.rstrip() if isinstance(value, Fragment) else str(value) for name, value in params.items()}
    return Fragment(text.substitute(values))


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
