"""Renders the statements in sql/*.sql.

Parameters are substituted only after a second, local check that each value
is a plain token (identifier path, gs:// path, URL or integer): config is
validated already, this keeps any future caller from opening an injection.
"""

from __future__ import annotations

import re
from string import Template

from infra.config import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"
_PLAIN = re.compile(r"^[A-Za-z0-9_.:/*-]+$")


class UnsafeSqlParameter(ValueError):
    pass


def render(template: str, **params: str | int) -> str:
    text = Template((SQL_DIR / f"{template}.sql").read_text(encoding="utf-8"))
    wanted = set(text.get_identifiers())
    if set(params) != wanted:
        raise TypeError(f"sql/{template}.sql takes {sorted(wanted)}, got {sorted(params)}")
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not _PLAIN.match(str(value)):
            raise UnsafeSqlParameter(f"sql/{template}.sql: parameter {name}={value!r} is not a plain token")
    return text.substitute({name: str(value) for name, value in params.items()})
