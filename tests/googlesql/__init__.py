"""GoogleSQL (BigQuery's SQL) run on its reference implementation, ZetaSQL's local service.

`./dev setup` installs the service (npm package @fivetrandevelopers/zetasql, pinned in `dev`)
into `.zetasql/`; its protos are compiled into `.zetasql-cache/` on first use. Tests take the
session's engine from the `googlesql` fixture (tests/conftest.py):

    result = googlesql.query("SELECT id FROM `p.d.t` WHERE id > @n", {"p.d.t": Table([("id", "INT64")], [{"id": 1}])}, {"n": 0})
"""

from tests.googlesql.engine import Engine, EngineUnavailable, GoogleSQLError, Param, Table
from tests.googlesql.protos import MissingEngine

__all__ = ["Engine", "EngineUnavailable", "GoogleSQLError", "MissingEngine", "Param", "Table"]
