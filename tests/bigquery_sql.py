"""sqlglot's BigQuery dialect, taught the two things of ours it lacks.

sqlglot 30 parses CREATE MODEL, REMOTE WITH CONNECTION, ML.PREDICT,
AI.GENERATE_EMBEDDING and VECTOR_SEARCH, but not ML.EVALUATE (it parses the
other ML table functions with `_parse_ml`, so EVALUATE gets the same) nor the
words TABLE FUNCTION (it reads `CREATE TABLE FUNCTION` as a scalar FUNCTION and
cannot parse `DROP TABLE FUNCTION`). Tests and the wire server parse with this.
"""

from __future__ import annotations

from typing import Any, ClassVar

import sqlglot
from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.tokens import TokenType


class Evaluate(exp.Expression, exp.Func):
    """ML.EVALUATE(MODEL m, (query) [, STRUCT(...)])."""

    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": False, "params_struct": False}


class BigQueryML(BigQuery):
    class Tokenizer(BigQuery.Tokenizer):
        # One token, so that Create/Drop keep kind == "TABLE FUNCTION".
        KEYWORDS: ClassVar[dict[str, Any]] = {**BigQuery.Tokenizer.KEYWORDS, "TABLE FUNCTION": TokenType.FUNCTION}

    class Parser(BigQuery.Parser):
        FUNCTION_PARSERS: ClassVar[dict[str, Any]] = {**BigQuery.Parser.FUNCTION_PARSERS, "EVALUATE": lambda self: self._parse_ml(Evaluate)}


def parse(sql: str) -> exp.Expression:
    """The one statement in `sql`; raises sqlglot.errors.ParseError if BigQuery's grammar rejects it."""
    (statement,) = parse_all(sql)
    return statement


def parse_all(sql: str) -> list[exp.Expression]:
    """Every statement of a multi-statement query, in order."""
    return [s for s in sqlglot.parse(sql, read=BigQueryML) if s is not None]


def table_name(table: exp.Expression) -> str:
    return ".".join(part.name for part in table.parts)
