"""Runs a corpus refresh statement by statement on the GoogleSQL reference engine.

The statements are the product's own (infra/bigquery/refresh.py renders them
from sql/corpus/), bound to query parameters instead of the procedure's
script variables. What this module adds is what the engine cannot run: the
procedure's control flow (lease check, the loop over batches, a transaction
per batch, which rolls back on a kill) mirrors sql/corpus/procedure.sql, and
the model call is replaced. The one replacement: `FakeModel` renders a
deterministic SQL expression in place of ML.PREDICT / AI.GENERATE_EMBEDDING,
with the same output columns (content, embedding, status, the input's other
columns), failing the rows a test lists in its `faults` table.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from infra.bigquery import refresh, sql
from infra.bigquery.embedding import Embedder, Purpose
from infra.bigquery.refresh import PARAMETERS, Refresh, Source, Tables
from tests.googlesql import Engine, Table

DATASET = "my-proj-123.tf_models_tutorial"
SOURCE = "acme-data.support.tickets"
FAULTS = "test.model.faults"  # doc_id -> the status the fake model answers for it
TABLES = Tables(
    embeddings=f"{DATASET}.tickets_fake_embeddings",
    failures=f"{DATASET}.tickets_fake_failures",
    runs=f"{DATASET}.tickets_refresh_runs",
    lease=f"{DATASET}.tickets_refresh_lease",
)
RETRYABLE = "A retryable error occurred: RESOURCE EXHAUSTED error from remote service/endpoint."  # a quota
TRANSIENT = "A retryable error occurred: the remote endpoint did not answer in time."


@dataclass(frozen=True)
class FakeModel(Embedder):
    """A remote-model-shaped embedder whose vectors are a fingerprint of (seed, text), `dims` long."""

    seed: str = "v1"
    dims: int = 4

    def embed(self, rows: sql.Fragment, purpose: Purpose) -> sql.Fragment:
        vector = (
            f"ARRAY(SELECT CAST(ABS(MOD(FARM_FINGERPRINT(CONCAT('{self.seed}', '/', r.content, '/', CAST(d AS STRING))), 1000)) AS FLOAT64) / 1000.0 "
            f"FROM UNNEST(GENERATE_ARRAY(1, {self.dims})) AS d ORDER BY d)"
        )
        return sql.Fragment(
            f"SELECT r.content, IF(f.status IS NULL, {vector}, ARRAY<FLOAT64>[]) AS embedding, "
            f"IFNULL(f.status, '') AS status, r.* EXCEPT (content)\n"
            f"FROM ({rows.rstrip()}) AS r\nLEFT JOIN `{FAULTS}` AS f ON f.doc_id = r.doc_id"
        )


def fake_model(seed: str = "v1", dims: int = 4) -> FakeModel:
    return FakeModel(model_id="fake", template="embed_managed", status_column="status", seed=seed, dims=dims)


def plan(model: FakeModel | None = None, key: tuple[str, ...] = ("ticket_id",), batch_size: int = 1000, max_attempts: int = 3) -> Refresh:
    model = model or fake_model()
    return Refresh(
        corpus="tickets",
        model="fake",
        source=Source(SOURCE, key, "body"),
        tables=TABLES,
        embedder=model,
        model_version=refresh.model_version([model.seed, str(model.dims)]),
        batch_size=batch_size,
        max_attempts=max_attempts,
        time_budget_minutes=60,
        index_type="IVF",
        index_name="tickets_fake_embedding_index",
        procedure_id=f"{DATASET}.refresh_tickets_fake",
        location="US",
    )


def schema(create_sql: str) -> list[tuple[str, str]]:
    """A table's columns as the product's CREATE TABLE declares them."""
    tree = sqlglot.parse_one(create_sql, read="bigquery")
    return [(c.name, c.args["kind"].sql(dialect="bigquery")) for c in tree.find(exp.Schema).expressions if isinstance(c, exp.ColumnDef)]


class Killed(Exception):
    """The run stopped here, as a cancelled job or a lost worker would stop it."""


class LostLease(Exception):
    """The procedure's RAISE when a batch finds the lease no longer its own."""


@dataclass
class Run:
    run_id: str
    outcome: str = "done"
    batches: int = 0
    sent_ids: list[str] = field(default_factory=list)  # the rows sent to the model
    embedded: int = 0
    failed: int = 0
    deleted: int = 0
    todo: int = 0

    @property
    def sent(self) -> int:
        return len(self.sent_ids)


@dataclass
class World:
    """The tables a refresh reads and writes, as the engine sees them."""

    engine: Engine
    source: Table
    tables: dict[str, Table] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def __post_init__(self) -> None:
        p = plan()
        params = {"corpus": "tickets", "model": "fake", "source_table": SOURCE, "procedure": p.procedure_id}
        self.tables.setdefault(TABLES.embeddings, Table(schema(sql.render("corpus/embeddings_table", table=TABLES.embeddings, **params))))
        self.tables.setdefault(TABLES.failures, Table(schema(sql.render("corpus/failures_table", table=TABLES.failures, **params))))
        self.tables.setdefault(TABLES.runs, Table(schema(sql.render("corpus/runs_table", table=TABLES.runs, corpus="tickets"))))
        self.tables.setdefault(TABLES.lease, Table(schema(sql.render("corpus/lease_table", table=TABLES.lease, corpus="tickets"))))

    def catalog(self) -> dict[str, Table]:
        faults = Table([("doc_id", "STRING"), ("status", "STRING")], [{"doc_id": k, "status": v} for k, v in self.faults.items()])
        return {SOURCE: self.source, FAULTS: faults, **self.tables}

    def query(self, statement: str, **params: Any) -> Table:
        return self.engine.query(statement, self.catalog(), params)

    def modify(self, target: str, statement: str, **params: Any) -> int:
        """Runs an INSERT, UPDATE or DELETE on `target`; returns the rows it changed (BigQuery's @@row_count)."""
        before = self.tables[target].rows
        after = self.engine.modify(statement, self.catalog(), params)
        self.tables[target] = after
        return _changed(before, after.rows)

    @property
    def embeddings(self) -> list[dict[str, Any]]:
        return self.tables[TABLES.embeddings].rows

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.tables[TABLES.failures].rows

    def refresh(
        self, p: Refresh, kill_after_batches: int | None = None, kill_in_transaction: bool = False, between_batches: Any = None
    ) -> Run:
        """One run of the refresh procedure; `kill_after_batches` stops it after that many batches
        committed (with `kill_in_transaction`, in the middle of the next one, which then rolls back);
        `between_batches` is called after each committed batch (something else happening meanwhile)."""
        self.runs += 1
        run = Run(run_id=f"run-{self.runs}")
        s = p.statements(PARAMETERS)
        started = datetime.datetime.now(datetime.UTC)

        def values() -> dict[str, Any]:
            return {
                "run_id": run.run_id, "started_at": started, "outcome": run.outcome, "batches": run.batches,
                "sent": run.sent, "embedded": run.embedded, "failed": run.failed, "deleted": run.deleted,
            }

        self.modify(TABLES.lease, s.lease_seed)
        if self.modify(TABLES.lease, s.lease_take, run_id=run.run_id) == 0:
            run.outcome = "skipped: another refresh of this model holds the lease"
            self.modify(TABLES.runs, s.log_run, **values())
            return run

        run.deleted = self.modify(TABLES.embeddings, s.delete_departed_embeddings)
        run.deleted += self.modify(TABLES.failures, s.delete_departed_failures)
        todo = self.query(s.todo)
        self.tables["_todo"] = todo
        run.todo = len(todo.rows)
        other_versions = self.query(s.other_versions).rows[0]["found"]
        batch_count = math.ceil(len(todo.rows) / p.batch_size)
        slot_width = math.ceil(refresh.SLOTS / batch_count) if batch_count else refresh.SLOTS
        low = 0
        try:
            while batch_count > 0 and low < refresh.SLOTS:
                high = low + slot_width
                if kill_after_batches is not None and run.batches == kill_after_batches and not kill_in_transaction:
                    raise Killed
                self.tables["_batch"] = self.query(s.batch, low=low, high=high)
                if self.tables["_batch"].rows:
                    self.tables["_embedded"] = self.query(s.embed)
                    sent = self.query(s.batch_text)
                    self._transaction(s, run, other_versions, kill=kill_after_batches is not None and run.batches == kill_after_batches)
                    run.sent_ids += sent.column("doc_id")
                    run.batches += 1
                    if between_batches is not None:
                        between_batches(run)
                low = high
        except Killed:
            run.outcome = "killed"
            return run  # no log, no release: a killed job runs no handler
        except LostLease:
            run.outcome = "failed: this refresh lost its lease: a newer run or procedure took over"
            self.modify(TABLES.runs, s.log_run, **values())  # the procedure's outer handler
            self.modify(TABLES.lease, s.lease_release, run_id=run.run_id)
            return run
        self.modify(TABLES.runs, s.log_run, **values())
        self.modify(TABLES.lease, s.lease_release, run_id=run.run_id)
        return run

    def _transaction(self, s: refresh.Statements, run: Run, other_versions: bool, kill: bool) -> None:
        snapshot = {name: Table(list(t.columns), list(t.rows)) for name, t in self.tables.items()}
        try:
            if self.modify(TABLES.lease, s.lease_renew, run_id=run.run_id) == 0:
                raise LostLease
            self.modify(TABLES.embeddings, s.clear_embeddings)
            self.modify(TABLES.failures, s.clear_failures)
            if kill:
                raise Killed
            embedded = self.modify(TABLES.embeddings, s.insert_embedded)
            failed = self.modify(TABLES.failures, s.insert_failed)
            if other_versions:
                self.modify(TABLES.embeddings, s.drop_other_dims)
        except BaseException:
            self.tables.update(snapshot)  # ROLLBACK TRANSACTION
            raise
        run.embedded += embedded
        run.failed += failed

    def status(self, p: Refresh) -> dict[str, Any]:
        """The status view's row for this model, evaluated from the view's own SELECT."""
        view = sql.render(
            "corpus/status_model",
            model=p.model,
            model_version=p.model_version,
            source=p.source.rows(),
            embeddings=TABLES.embeddings,
            failures=TABLES.failures,
            runs=TABLES.runs,
        )
        (row,) = self.query(view).rows
        return row


def _changed(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> int:
    """Rows inserted, deleted or updated, like @@row_count after one DML statement."""
    if len(after) != len(before):
        return abs(len(after) - len(before))
    return sum(1 for old, new in zip(before, after, strict=True) if old != new)
