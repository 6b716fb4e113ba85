"""Permanent tables shared by scripts that run at the same time, with BigQuery's rules for them.

ZetaSQL's evaluator has no storage, no transactions and no clock; BigQuery's
documented rules for them are modelled here, in one place, so that every
script the tests run obeys the same ones:

- Transactions (docs: transactions, "Transaction concurrency"): a transaction
  reads a snapshot of the tables taken when it began, plus its own writes. A
  transaction that mutates a table another open transaction has mutated is
  aborted ("Transaction is aborted due to concurrent update against table …"),
  and so is one that mutates a table committed by others since its snapshot.
  DML outside a transaction on a table an open transaction has mutated waits
  (queued) until that transaction ends. A statement in a transaction counts as
  mutating its table even when it matches no row (the restrictive reading).
- CURRENT_TIMESTAMP (docs: transactions, "Date/time functions in
  transactions"): the time the statement runs, and inside a transaction the
  time the transaction began. The clock is the harness's and moves one `step`
  per statement, so time budgets and leases can be tested.
- `project.dataset.__TABLES__` reports each table's `row_count` and
  `size_bytes`, reckoned with BigQuery's data-size rules (docs: storage pricing,
  "Data size calculation"); a test may state a table's reported size where the
  rows to reach it would not fit through the engine's 4 MB request limit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.googlesql.engine import Table


class Blocked(Exception):
    """DML outside a transaction on a table an open transaction mutated: it waits its turn."""

    def __init__(self, table: str) -> None:
        super().__init__(f"waiting for a transaction on {table}")
        self.table = table


class Aborted(Exception):
    """BigQuery cancelled the transaction: a concurrent update of a table it mutates."""

    def __init__(self, table: str) -> None:
        super().__init__(f"Transaction is aborted due to concurrent update against table {table}.")
        self.table = table


@dataclass
class Clock:
    now: dt.datetime = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    step: dt.timedelta = dt.timedelta(milliseconds=10)

    def tick(self) -> dt.datetime:
        self.now += self.step
        return self.now


@dataclass
class Transaction:
    id: int
    began_at: dt.datetime
    snapshot: dict[str, Table]
    versions: dict[str, int]
    writes: dict[str, Table] = field(default_factory=dict)
    mutated: set[str] = field(default_factory=set)


_SCALAR_BYTES = {
    "INT64": 8, "FLOAT64": 8, "NUMERIC": 16, "BIGNUMERIC": 32, "BOOL": 1, "DATE": 8, "DATETIME": 8, "TIME": 8,
    "TIMESTAMP": 8, "INTERVAL": 16,
}  # fmt: skip


def logical_bytes(value: Any, type_text: str) -> int:
    """BigQuery's logical size of one value: NULL 0, STRING/BYTES 2 + their bytes, ARRAY and STRUCT their parts."""
    if value is None:
        return 0
    kind = type_text.strip().upper()
    if kind.startswith("ARRAY<"):
        element = type_text.strip()[6:-1]
        return sum(logical_bytes(v, element) for v in value)
    if kind == "STRING":
        return 2 + len(value.encode())
    if kind == "BYTES":
        return 2 + len(value)
    if kind == "JSON":
        return len(json.dumps(value).encode())
    if kind in _SCALAR_BYTES:
        return _SCALAR_BYTES[kind]
    raise ValueError(f"no size rule for {type_text}")


class Database:
    """Committed tables by full name (`project.dataset.table`) and the transactions open on them."""

    def __init__(self, tables: Mapping[str, Table], clock: Clock | None = None) -> None:
        self.tables: dict[str, Table] = dict(tables)
        self.versions: dict[str, int] = dict.fromkeys(self.tables, 0)
        self.clock = clock or Clock()
        self.open: list[Transaction] = []
        self.reported_size: dict[str, int] = {}  # size_bytes __TABLES__ reports instead of the reckoned one
        self.recorded: list[str] = []  # statements the engine cannot run (CREATE VECTOR INDEX), in order
        self.record_error: str | None = None  # what such a statement fails with, when a test says so
        self._ids = itertools.count(1)

    # --- reading -------------------------------------------------------------------------

    def view(self, txn: Transaction | None) -> dict[str, Table]:
        """The tables as a statement sees them: committed, or the transaction's snapshot and writes."""
        tables = dict(self.tables) if txn is None else {**txn.snapshot, **txn.writes}
        return {**tables, **self._metadata(tables)}

    def _metadata(self, tables: Mapping[str, Table]) -> dict[str, Table]:
        columns = [("project_id", "STRING"), ("dataset_id", "STRING"), ("table_id", "STRING"), ("row_count", "INT64"), ("size_bytes", "INT64")]
        datasets: dict[str, Table] = {}
        for name, table in tables.items():
            if name.count(".") < 2:
                continue
            dataset, table_id = name.rsplit(".", 1)
            project, dataset_id = dataset.rsplit(".", 1)
            size = self.reported_size.get(name)
            if size is None:
                size = sum(logical_bytes(row.get(c), t) for row in table.rows for c, t in table.columns)
            row = {"project_id": project, "dataset_id": dataset_id, "table_id": table_id, "row_count": len(table.rows), "size_bytes": size}
            datasets.setdefault(f"{dataset}.__TABLES__", Table(columns, [])).rows.append(row)
        return datasets

    # --- writing -------------------------------------------------------------------------

    def begin(self) -> Transaction:
        txn = Transaction(next(self._ids), self.clock.now, dict(self.tables), dict(self.versions))
        self.open.append(txn)
        return txn

    def check_write(self, target: str, txn: Transaction | None) -> None:
        """Raises Blocked or Aborted when BigQuery would not let this DML run now."""
        if target not in self.tables:
            return  # the statement fails on its own: no such table
        holders = [other for other in self.open if other is not txn and target in other.mutated]
        if txn is None:
            if holders:
                raise Blocked(target)
        elif holders or self.versions[target] != txn.versions.get(target):
            raise Aborted(target)

    def write(self, target: str, table: Table, txn: Transaction | None) -> None:
        if txn is None:
            self.tables[target] = table
            self.versions[target] += 1
        else:
            txn.writes[target] = table
            txn.mutated.add(target)

    def commit(self, txn: Transaction) -> None:
        for name in txn.mutated:
            self.tables[name] = txn.writes[name]
            self.versions[name] += 1
        self.open.remove(txn)

    def rollback(self, txn: Transaction) -> None:
        self.open.remove(txn)
