"""A corpus refresh: the statements that keep a model's embeddings of a user's table current.

Every decision (which rows leave, which need embedding, what a batch writes) is
one INSERT, UPDATE, DELETE or SELECT rendered from sql/corpus/. The procedure
BigQuery runs is those statements inside a script's control flow (a lease,
a loop over batches, a transaction per batch). The statements are rendered
with the run's values named either as the script's variables or as query
parameters, so the same SQL can be executed statement by statement outside a
script: the tests run it on the GoogleSQL reference engine that way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields

from infra.bigquery import sql
from infra.bigquery.embedding import Embedder, Purpose

# A batch is a range of slots (a hash of the key), so that no global sort ranks millions of rows.
SLOTS = 1_000_000
MIN_INDEX_ROWS = 5_000  # BigQuery refuses a vector index on a smaller table


@dataclass(frozen=True)
class RunValues:
    """How the statements name a run's values: script variables, or @parameters outside a script."""

    run_id: str
    started_at: str
    outcome: str
    batches: str
    sent: str
    embedded: str
    failed: str
    deleted: str
    low: str
    high: str


SCRIPT = RunValues(*(f.name for f in fields(RunValues)))
PARAMETERS = RunValues(*(f"@{f.name}" for f in fields(RunValues)))


@dataclass(frozen=True)
class Source:
    """The user's table: which columns identify a row and which one is embedded."""

    table: str  # project.dataset.table
    key: tuple[str, ...]
    text: str

    def doc_id(self) -> sql.Fragment:
        """One STRING per key, never the same for two keys: a single column as it is, several as a JSON object."""
        if len(self.key) == 1:
            return sql.render("corpus/doc_id_one", column=self.key[0])
        return sql.render("corpus/doc_id_many", columns=sql.join((sql.render("corpus/column", column=c) for c in self.key), ", "))

    def _key_present(self) -> sql.Fragment:
        return sql.join((sql.render("corpus/not_null", column=c) for c in self.key), " AND ")

    def rows(self) -> sql.Fragment:
        return sql.render("corpus/source", doc_id=self.doc_id(), text=self.text, table=self.table, key_present=self._key_present())

    def keys(self) -> sql.Fragment:
        return sql.render("corpus/source_keys", doc_id=self.doc_id(), table=self.table, key_present=self._key_present())


@dataclass(frozen=True)
class Tables:
    embeddings: str
    failures: str
    runs: str
    lease: str


@dataclass(frozen=True)
class Statements:
    """A refresh's statements, in the order a run issues them."""

    lease_seed: sql.Fragment
    lease_take: sql.Fragment
    lease_renew: sql.Fragment  # UPDATE: 0 rows means the run lost its lease
    delete_departed_embeddings: sql.Fragment
    delete_departed_failures: sql.Fragment
    todo: sql.Fragment  # SELECT: the run's work list, kept as _todo
    other_versions: sql.Fragment  # SELECT: whether rows of another model version are kept
    batch: sql.Fragment  # SELECT: one batch of _todo, kept as _batch
    batch_text: sql.Fragment  # SELECT: the rows of _batch sent to the model
    embed: sql.Fragment  # SELECT: the model's answers, kept as _embedded
    clear_embeddings: sql.Fragment
    clear_failures: sql.Fragment
    insert_embedded: sql.Fragment
    insert_failed: sql.Fragment
    drop_other_dims: sql.Fragment
    log_run: sql.Fragment
    lease_release: sql.Fragment


def model_version(versions: Sequence[str]) -> str:
    """A short stable name for what a model would answer (its SQL, its deployment): a change re-embeds."""
    return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Refresh:
    corpus: str
    model: str
    source: Source
    tables: Tables
    embedder: Embedder
    model_version: str
    batch_size: int
    max_attempts: int
    time_budget_minutes: int
    index_type: str | None
    index_name: str
    procedure_id: str
    location: str

    def statements(self, values: RunValues = SCRIPT) -> Statements:
        t, version = self.tables, self.model_version
        embedded = self.embedder.embed(sql.render("corpus/batch_text"), Purpose.DOCUMENT)
        return Statements(
            lease_seed=sql.render("corpus/lease_seed", lease=t.lease, model=self.model),
            lease_take=sql.render(
                "corpus/lease_take", lease=t.lease, model=self.model, run_id=values.run_id, lease_minutes=self.lease_minutes
            ),
            lease_renew=sql.render(
                "corpus/lease_renew", lease=t.lease, model=self.model, run_id=values.run_id, lease_minutes=self.lease_minutes
            ),
            delete_departed_embeddings=sql.render("corpus/delete_departed", target=t.embeddings, source_keys=self.source.keys()),
            delete_departed_failures=sql.render("corpus/delete_departed", target=t.failures, source_keys=self.source.keys()),
            todo=sql.render(
                "corpus/todo",
                source=self.source.rows(),
                embeddings=t.embeddings,
                failures=t.failures,
                model_version=version,
                slots=SLOTS,
            ),
            other_versions=sql.render("corpus/other_versions", embeddings=t.embeddings, model_version=version),
            batch=sql.render("corpus/batch", low=values.low, high=values.high),
            batch_text=sql.render("corpus/batch_text"),
            embed=sql.render("corpus/embed", error=self.embedder.error(), embedded=embedded),
            clear_embeddings=sql.render("corpus/clear_batch", target=t.embeddings),
            clear_failures=sql.render("corpus/clear_batch", target=t.failures),
            insert_embedded=sql.render("corpus/insert_embedded", embeddings=t.embeddings, model_version=version),
            insert_failed=sql.render(
                "corpus/insert_failed", failures=t.failures, model_version=version, max_attempts=self.max_attempts
            ),
            drop_other_dims=sql.render("corpus/drop_other_dims", embeddings=t.embeddings, model_version=version),
            log_run=sql.render(
                "corpus/log_run",
                runs=t.runs,
                model=self.model,
                model_version=version,
                **{name: getattr(values, name) for name in ("run_id", "started_at", "outcome", "batches", "sent", "embedded", "failed", "deleted")},
            ),
            lease_release=sql.render("corpus/lease_release", lease=t.lease, model=self.model, run_id=values.run_id),
        )

    @property
    def lease_minutes(self) -> int:
        """A killed run's lease lapses after twice the budget: the loop starts no batch after one budget."""
        return 2 * self.time_budget_minutes

    def index(self, replace: bool = False) -> sql.Fragment | None:
        """The vector index once the table qualifies; `replace` rebuilds one whose options changed."""
        if self.index_type is None:
            return None
        create = sql.render(
            "corpus/index_replace" if replace else "corpus/index_create",
            index=self.index_name,
            embeddings=self.tables.embeddings,
            index_type=self.index_type,
        )
        return sql.render("corpus/index_when_qualified", embeddings=self.tables.embeddings, min_rows=MIN_INDEX_ROWS, create=create)

    def procedure(self) -> sql.Fragment:
        s = self.statements(SCRIPT)
        return sql.render(
            "corpus/procedure",
            procedure=self.procedure_id,
            embeddings=self.tables.embeddings,
            source_table=self.source.table,
            corpus=self.corpus,
            model=self.model,
            location=self.location,
            slots=SLOTS,
            batch_size=self.batch_size,
            time_budget_minutes=self.time_budget_minutes,
            index=self.index() or sql.render("corpus/no_index"),
            **{f.name: getattr(s, f.name) for f in fields(Statements)},
        )

    def search(self, text: str, k: str) -> sql.Fragment:
        """The k rows nearest the text, which the same model embeds as a query; only this version's rows."""
        query = self.embedder.embed(sql.render("search_text", text=text), Purpose.QUERY)
        base = sql.render("corpus/search_base", embeddings=self.tables.embeddings, model_version=self.model_version)
        return sql.render("corpus/vector_search", base=base, query_embedding=query, k=k)
