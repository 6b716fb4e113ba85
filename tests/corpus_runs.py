"""A corpus refresh run from the procedure's own text on the GoogleSQL reference engine.

The procedure is the product's: `Refresh.procedure()` renders sql/corpus/procedure.sql
with every statement it holds, and a run is a CALL of it, interpreted by
tests/googlesql/script.py (BigQuery's scripting around the engine) over a
tests/googlesql/database.py (BigQuery's transaction, clock and metadata rules). Runs
can be driven to the end, stopped before any statement (a killed job) or interleaved
statement by statement with other runs.

The one replacement is the model: `FakeModel` renders a deterministic SQL expression in
place of ML.PREDICT / AI.GENERATE_EMBEDDING, with the same output columns, answering
the rows a test lists in the `faults` table with their status (or with a vector of
another length, or with a NULL in it), and is marked in the SQL where it stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, Kind, Purpose, model_version
from bqml_text_embeddings.corpus.refresh import Refresh, Source, Tables
from tests.googlesql import Engine, Table
from tests.googlesql.database import Database
from tests.googlesql.script import Script, Step

DATASET = "my-proj-123.tf_models_tutorial"
SOURCE = "acme-data.support.tickets"
FAULTS = "test.model.faults"  # doc_id -> what the fake model answers for it


def tables_for(model: str) -> Tables:
    return Tables(
        embeddings=f"{DATASET}.tickets_{model}_embeddings",
        failures=f"{DATASET}.tickets_{model}_failures",
        runs=f"{DATASET}.tickets_refresh_runs",
        lease=f"{DATASET}.tickets_refresh_lease",
    )


TABLES = tables_for("fake")
RETRYABLE = "A retryable error occurred: RESOURCE EXHAUSTED error from remote service/endpoint."  # a quota
TRANSIENT = "A retryable error occurred: the remote endpoint did not answer in time."
MODEL_CALL = "/* the harness's stand-in for the model: tests/corpus_runs.py FakeModel */"
MAX_STATEMENTS = 20_000  # a run of these tests' sizes takes a few hundred: more is a loop that never ends


@dataclass(frozen=True)
class Fault:
    """What the fake model answers for one row: a status, a vector of `dims` values or one with a NULL, or
    an error that fails the whole statement (as an imported model does on a row it cannot take)."""

    status: str | None = None
    dims: int | None = None
    null_value: bool = False
    statement_error: str | None = None


@dataclass(frozen=True)
class FakeModel(Embedder):
    """A remote-model-shaped embedder whose vectors are a fingerprint of (seed, text), `length` long."""

    seed: str = "v1"
    length: int = 4

    def embed(self, rows: sql.Fragment, purpose: Purpose) -> sql.Fragment:
        value = f"CAST(ABS(MOD(FARM_FINGERPRINT(CONCAT('{self.seed}', '/', r.content, '/', CAST(d AS STRING))), 1000)) AS FLOAT64) / 1000.0"
        vector = (
            f"ARRAY(SELECT IF(f.null_value AND d = 1, NULL, {value}) "
            f"FROM UNNEST(GENERATE_ARRAY(1, IFNULL(f.dims, {self.length}))) AS d ORDER BY d)"
        )
        return sql.Fragment(
            f"{MODEL_CALL}\nSELECT r.content, IF(f.statement_error IS NOT NULL, ERROR(f.statement_error), "
            f"IF(f.status IS NULL, {vector}, ARRAY<FLOAT64>[])) AS embedding, "
            f"IFNULL(f.status, '') AS status, r.* EXCEPT (content)\n"
            f"FROM ({rows.rstrip()}) AS r\nLEFT JOIN `{FAULTS}` AS f ON f.doc_id = r.doc_id"
        )


def fake_model(seed: str = "v1", dims: int = 4, known: bool = True) -> FakeModel:
    """`known`: the stack knows the vectors' length beforehand (built and Google's models); else the run learns it."""
    return FakeModel(model_id="fake.model.fake", kind=Kind.MANAGED, dims=dims if known else None, seed=seed, length=dims)


def plan(
    model: FakeModel | None = None,
    name: str = "fake",
    key: tuple[str, ...] = ("ticket_id",),
    batch_size: int = 1000,
    max_attempts: int = 3,
    max_delete_percent: int = 10,
    newest_by: str | None = None,
    time_budget_minutes: int = 60,
) -> Refresh:
    model = model or fake_model()
    return Refresh(
        corpus="tickets",
        model=name,
        source=Source(SOURCE, key, "body", newest_by),
        tables=tables_for(name),
        embedder=model,
        model_version=model.version or model_version([model.seed, str(model.length)]),
        batch_size=batch_size,
        max_attempts=max_attempts,
        time_budget_minutes=time_budget_minutes,
        max_delete_percent=max_delete_percent,
        index_type="IVF",
        index_name=f"tickets_{name}_embedding_index",
        procedure_id=f"{DATASET}.refresh_tickets_{name}",
        location="US",
    )


def schema(ddl: str) -> list[tuple[str, str]]:
    """A table's columns as the product's DDL declares them: its CREATE TABLE, then any ALTER TABLE … ADD COLUMN."""
    columns: list[tuple[str, str]] = []
    for statement in sqlglot.parse(ddl, read="bigquery"):
        if statement is None:
            continue
        definitions = statement.find(exp.Schema).expressions if isinstance(statement, exp.Create) else statement.find_all(exp.ColumnDef)
        columns += [(c.name, c.args["kind"].sql(dialect="bigquery")) for c in definitions if isinstance(c, exp.ColumnDef)]
    return columns


@dataclass
class Run:
    """One CALL of the procedure and what the harness saw of it."""

    script: Script
    world: World
    calls: list[list[str]] = field(default_factory=list)  # the rows of each model call, in order

    @property
    def sent_ids(self) -> list[str]:
        """Every row the model was asked to embed."""
        return [doc_id for call in self.calls for doc_id in call]

    @property
    def sent(self) -> int:
        return len(self.sent_ids)

    @property
    def error(self) -> str | None:
        return self.script.error

    @property
    def log(self) -> dict[str, Any] | None:
        """The run's row in the run log (None: it never wrote one, as a killed run)."""
        try:
            run_id = self.script.variable("run_id")
        except KeyError:
            return None  # stopped before it declared one
        rows = [row for row in self.world.tables[TABLES.runs].rows if row["run_id"] == run_id]
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    @property
    def outcome(self) -> str:
        return self.log["outcome"] if self.log else "killed"

    def steps(self) -> Iterator[Step]:
        """The script's steps, noting the rows each model call is given before it runs."""
        for count, step in enumerate(self.script.steps()):
            if count == MAX_STATEMENTS:
                self.script.kill()
                raise AssertionError(f"the run did not end within {MAX_STATEMENTS} statements: {step.text[:200]}")
            if MODEL_CALL in step.text and not step.blocked:
                self.calls.append([str(i) for i in self.script.query(sql.render("corpus/batch_text")).column("doc_id")])
            yield step


@dataclass
class World:
    """The tables a refresh reads and writes, shared by every run."""

    engine: Engine
    source: Table
    faults: dict[str, Fault] = field(default_factory=dict)
    models: tuple[str, ...] = ("fake",)

    def __post_init__(self) -> None:
        tables = {
            SOURCE: self.source,
            TABLES.runs: Table(schema(sql.render("corpus/runs_table", table=TABLES.runs, corpus="tickets"))),
            TABLES.lease: Table(schema(sql.render("corpus/lease_table", table=TABLES.lease, corpus="tickets"))),
        }
        for model in self.models:
            t, p = tables_for(model), plan(name=model)
            names = {"corpus": "tickets", "model": model, "source_table": SOURCE, "procedure": p.procedure_id}
            tables[t.embeddings] = Table(schema(sql.render("corpus/embeddings_table", table=t.embeddings, **names)))
            tables[t.failures] = Table(schema(sql.render("corpus/failures_table", table=t.failures, **names)))
        self.db = Database(tables)

    @property
    def tables(self) -> dict[str, Table]:
        return self.db.tables

    @property
    def embeddings(self) -> list[dict[str, Any]]:
        return self.tables[TABLES.embeddings].rows

    @property
    def failures(self) -> list[dict[str, Any]]:
        return self.tables[TABLES.failures].rows

    def _faults(self) -> dict[str, Table]:
        columns = [("doc_id", "STRING"), ("status", "STRING"), ("dims", "INT64"), ("null_value", "BOOL"), ("statement_error", "STRING")]
        rows = [
            {"doc_id": k, "status": f.status, "dims": f.dims, "null_value": f.null_value, "statement_error": f.statement_error}
            for k, f in self.faults.items()
        ]
        return {FAULTS: Table(columns, rows)}

    def start(self, p: Refresh, max_delete_percent: int | None = None) -> Run:
        """A CALL of the procedure as the product declares it, not yet run."""
        return Run(Script(self.engine, self.db, str(p.procedure()), [max_delete_percent], extra_tables=self._faults), self)

    def refresh(self, p: Refresh, max_delete_percent: int | None = None, kill: Callable[[Step], bool] | None = None) -> Run:
        """One run to its end, or killed before the first statement `kill` picks."""
        run = self.start(p, max_delete_percent)
        for step in run.steps():
            assert not step.blocked, f"blocked on {step.blocked} with nothing else running"
            if kill is not None and kill(step):
                run.script.kill()
                break
        return run

    def interleave(self, runs: Sequence[Run], turns: Callable[[int], int] | None = None, limit: int = 100_000) -> None:
        """Runs side by side, one statement at a time: run `turns(i)` moves at turn i (round robin by default).
        A blocked run passes its turn; all blocked at once is a deadlock and fails."""
        going = {index: run.steps() for index, run in enumerate(runs)}
        blocked: set[int] = set()
        for turn in range(limit):
            if not going:
                return
            live = sorted(going)
            index = live[(turns(turn) if turns else turn) % len(live)]
            step = next(going[index], None)
            if step is None:
                del going[index]
                blocked.discard(index)
                continue
            blocked = blocked | {index} if step.blocked else blocked - {index}
            if blocked == set(going):
                raise AssertionError(f"deadlock: every run waits ({[runs[i].script for i in blocked]})")
        raise AssertionError(f"runs did not end in {limit} statements")

    def script(self, statements: str) -> Script:
        """A statement or a script of the tests' own (a takeover, a user's DML), not yet run."""
        return Script(self.engine, self.db, statements, extra_tables=self._faults)

    def execute(self, statements: str) -> Script:
        """A statement or a script run on its own, as a user or `pulumi up` would."""
        return self.script(statements).run()

    def status(self, p: Refresh) -> dict[str, Any]:
        """The status view's row for this model, evaluated from the view's own SELECT."""
        view = p.status()
        (row,) = self.engine.query(view, self.db.view(None)).rows
        return row
