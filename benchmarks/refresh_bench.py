"""Corpus refresh: rows sent to the model against rows that needed it, and what a refresh reads.

Runs the refresh procedure's own text on the GoogleSQL reference engine (as
tests/test_corpus_refresh.py does, with its deterministic stand-in for the
model) over a corpus of --rows rows, through these steps:
  first fill; unchanged; 1% churn (half edits, a quarter inserts, a quarter
  deletes); 1% failing retryably, then the retry; a new model version.
"Needed" is reckoned independently, in Python, from the source and the tables
before each run. "Scans" counts, per column, the statements that read it (BigQuery
bills a statement for every column it references): any refresh must read the
source's key and text once, and the doc_id, fingerprint and version of the
rows it keeps once.

Run: .venv/bin/python benchmarks/refresh_bench.py [--rows 10000] [--batch 2500]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from typing import Any

import sqlglot
from measure import ROOT, machine, table
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

sys.path.insert(0, str(ROOT))

from bqml_text_embeddings.corpus.refresh import Refresh
from tests.corpus_runs import RETRYABLE, SOURCE, TABLES, Fault, World, fake_model, plan
from tests.googlesql import Engine, Table
from tests.googlesql import engine as engine_module

TEMP = ("temp", "script")


class CountingEngine:
    """The engine, recording every statement it ran with the tables it could read."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.log: list[tuple[str, dict[str, Table]]] = []

    def parse(self, sql: str, script: bool = True) -> Any:
        return self._engine.parse(sql, script)

    def query(self, sql: str, tables: dict[str, Table], params: Any = None) -> Table:
        result = self._engine.query(sql, tables, params)
        self.log.append((sql, tables))
        return result

    def dml(self, sql: str, tables: dict[str, Table], params: Any = None) -> tuple[Table, int]:
        result = self._engine.dml(sql, tables, params)
        self.log.append((sql, tables))
        return result


def _schema(tables: dict[str, Table]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, t in tables.items():
        types = {c: kind for c, kind in t.columns}
        parts = name.split(".") if "." in name else [*TEMP, name]
        nested.setdefault(parts[0], {}).setdefault(parts[1], {})[parts[2]] = types
    return nested


def _qualified_temp_tables(statement: str) -> str:
    """The script's temp tables under a three-part name, so that one schema can hold every table."""
    return re.sub(r"\b(_todo|_batch|_answers|_embedded|_departed)\b", lambda m: f"`{'.'.join(TEMP)}.{m.group(1)}`", statement)


def scans(engine: CountingEngine, since: int) -> Counter[tuple[str, str]]:
    """How many statements logged since `since` scan each (table, column) they reference."""
    read: Counter[tuple[str, str]] = Counter()
    for statement, tables in engine.log[since:]:
        schema = _schema(tables)
        tree = qualify(
            sqlglot.parse_one(_qualified_temp_tables(statement), read="bigquery"), schema=schema, dialect="bigquery", validate_qualify_columns=False
        )
        columns: set[tuple[str, str]] = set()
        for scope in traverse_scope(tree):
            for column in scope.columns:
                source = scope.sources.get(column.table)
                if isinstance(source, exp.Table):
                    columns.add((".".join(part.name for part in source.parts).removeprefix(".".join(TEMP) + "."), column.name))
        if isinstance(tree, (exp.Delete, exp.Update)):  # a DML statement's own filter reads its target
            target = ".".join(part.name for part in tree.this.parts)
            where = tree.args.get("where")
            for column in where.find_all(exp.Column) if where else ():
                if column.find_ancestor(exp.Select) is None:
                    columns.add((target, column.name))
        read.update(columns)
    return read


def _passes(read: Counter[tuple[str, str]], table: str) -> str:
    return ", ".join(f"{column} {count}" for (name, column), count in sorted(read.items()) if name == table) or "-"


def needed(world: World, p: Refresh) -> set[str]:
    """Rows that need the model, reckoned from the tables without the refresh's SQL."""
    embedded = {r["doc_id"]: r for r in world.embeddings}
    failures = {r["doc_id"]: r for r in world.failures}
    out = set()
    for row in world.source.rows:
        doc_id, text = str(row["ticket_id"]), row["body"]
        e, f = embedded.get(doc_id), failures.get(doc_id)
        if e and e["content"] == text and e["model_version"] == p.model_version:
            continue
        if f and f["content"] == text and f["model_version"] == p.model_version and f["status"] == "failed":
            continue
        if (text or "").strip():
            out.add(doc_id)
    return out


def main() -> None:
    # The reference evaluator joins by nested loops: at 10,000 rows one statement can take minutes.
    engine_module.RPC_TIMEOUT = 3600.0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=2_500)
    args = parser.parse_args()
    n = args.rows
    print(machine())
    with Engine.start() as real:
        engine = CountingEngine(real)
        source = Table(
            [("ticket_id", "INT64"), ("body", "STRING"), ("priority", "STRING")],
            [{"ticket_id": i, "body": f"ticket {i}: the printer on floor {i % 9} jams on page {i % 13}", "priority": "p2"} for i in range(n)],
        )
        world = World(engine, source)  # type: ignore[arg-type]
        p = plan(batch_size=args.batch)
        churn = max(1, n // 100)
        rows = []

        def step(name: str, change: Any = None, p: Refresh = p) -> None:
            if change:
                change()
            want = needed(world, p)
            mark = len(engine.log)
            started = time.perf_counter()
            run = world.refresh(p)
            wall = time.perf_counter() - started
            assert run.error is None and set(run.sent_ids) == want and len(run.sent_ids) == len(want), (name, run.error)
            read = scans(engine, mark)
            rows.append([
                name,
                f"{len(want):,}",
                f"{run.sent:,}",
                f"{run.sent / len(want):.2f}" if want else ("0 rows" if run.sent == 0 else "EXTRA"),
                f"{run.log['batches']}",
                _passes(read, SOURCE),
                _passes(read, TABLES.embeddings),
                f"{wall:.1f} s",
            ])

        def edit_insert_delete() -> None:
            for row in world.source.rows[: churn // 2]:
                row["body"] += " (edited)"
            del world.source.rows[len(world.source.rows) - churn // 4 :]
            world.source.rows += [{"ticket_id": n + i, "body": f"new ticket {i}", "priority": "p3"} for i in range(churn // 4)]

        def fail_some() -> None:
            world.faults = {str(i): Fault(RETRYABLE) for i in range(n // 2, n // 2 + churn)}
            for row in world.source.rows[n // 2: n // 2 + churn]:
                row["body"] += " (reopened)"

        def quota_back() -> None:
            world.faults = {}

        step("first fill")
        step("unchanged")
        step("1% churn", edit_insert_delete)
        step("1% fail retryably", fail_some)
        step("retry", quota_back)
        step("new model version", p=plan(fake_model(seed="v2"), batch_size=args.batch))
        print(f"\ncorpus of {n:,} rows, batches of {args.batch:,}; scans = statements that read the column (any refresh must read the")
        print("source's key and text once, and the kept rows' doc_id, fingerprint and version once; scans of the embeddings table")
        print("inside a batch filter on doc_id, which its clustering prunes)")
        print(table(["step", "needed", "sent", "sent/needed", "batches", "source scans", "embeddings-table scans", "engine wall"], rows))


if __name__ == "__main__":
    main()
