"""A corpus refresh: the statements that keep a model's embeddings of a user's table current.

Every decision (which rows leave, which need embedding, what a batch writes) is
one INSERT, UPDATE, DELETE or SELECT rendered from sql/corpus/. The procedure
BigQuery runs is those statements inside a script's control flow (a lease, a
delete guard, a loop over batches, a transaction per batch); statements name
the procedure's variables (run_id, last_doc_id, model_dims, ...) directly. The
tests execute the procedure's own text on the GoogleSQL reference engine.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, Purpose
from bqml_text_embeddings.bigquery.search import Search

# BigQuery populates a vector index only on a table of 10 MB or more (docs: vector-index,
# INFORMATION_SCHEMA.VECTOR_INDEXES: TEMPORARILY DISABLED, BASE_TABLE_TOO_SMALL).
MIN_INDEX_BYTES = 10 * 1024 * 1024
# Quota rejections of one row that use no attempt; later ones count (a quota that never clears
# would otherwise keep a row pending for ever).
FREE_REJECTIONS = 10


@dataclass(frozen=True)
class Source:
    """The user's table: which columns identify a row, which one is embedded, which one dates a row."""

    table: str  # project.dataset.table
    key: tuple[str, ...]
    text: str
    newest_by: str | None = None

    def doc_id(self) -> sql.Fragment:
        """One STRING per key, never the same for two keys: a single column as it is, several as a JSON object."""
        if len(self.key) == 1:
            return sql.render("corpus/doc_id_one", column=self.key[0])
        return sql.render("corpus/doc_id_many", columns=sql.join((sql.render("corpus/column", column=c) for c in self.key), ", "))

    def _key_present(self) -> sql.Fragment:
        return sql.join((sql.render("corpus/not_null", column=c) for c in self.key), " AND ")

    def rows(self) -> sql.Fragment:
        newest = sql.render("corpus/no_newest") if self.newest_by is None else sql.render("corpus/column", column=self.newest_by)
        return sql.render(
            "corpus/source", doc_id=self.doc_id(), text=self.text, table=self.table, key_present=self._key_present(), newest=newest
        )

    def keys(self) -> sql.Fragment:
        return sql.render("corpus/source_keys", doc_id=self.doc_id(), table=self.table, key_present=self._key_present())

    def repeated_keys(self) -> sql.Fragment:
        return sql.render("corpus/repeated_keys", doc_id=self.doc_id(), text=self.text, table=self.table, key_present=self._key_present())


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
    retire_exhausted: sql.Fragment
    departed: sql.Fragment  # SELECT: keys that left the source, kept as _departed
    corpus_rows: sql.Fragment  # SELECT: rows kept for the corpus, of which a share may be deleted
    delete_departed_embeddings: sql.Fragment
    delete_departed_failures: sql.Fragment
    todo: sql.Fragment  # SELECT: the run's work list, kept as _todo
    other_versions: sql.Fragment  # SELECT: whether rows of another model version are kept
    batch: sql.Fragment  # SELECT: the next batch of _todo, kept as _batch
    batch_text: sql.Fragment  # SELECT: the rows of _batch sent to the model
    embed: sql.Fragment  # SELECT: the model's answers, kept as _answers
    model_dims: sql.Fragment  # SELECT: the vectors' length, when the stack does not know it
    check_vectors: sql.Fragment  # SELECT: each answer judged, kept as _embedded
    lease_renew: sql.Fragment  # UPDATE: 0 rows means the run lost its lease
    lease_held: sql.Fragment  # SELECT, inside the batch's transaction
    clear_embeddings: sql.Fragment
    clear_failures: sql.Fragment
    insert_embedded: sql.Fragment
    insert_failed: sql.Fragment
    drop_other_dims: sql.Fragment
    log_run: sql.Fragment
    lease_release: sql.Fragment


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
    max_delete_percent: int
    index_type: str | None
    index_name: str
    procedure_id: str
    location: str

    def statements(self) -> Statements:
        t, version, model = self.tables, self.model_version, self.model
        lease = {"lease": t.lease, "model": model}
        return Statements(
            lease_seed=sql.render("corpus/lease_seed", **lease),
            lease_take=sql.render("corpus/lease_take", **lease, lease_minutes=self.lease_minutes),
            retire_exhausted=sql.render("corpus/retire_exhausted", failures=t.failures, max_attempts=self.max_attempts),
            departed=sql.render("corpus/departed", embeddings=t.embeddings, failures=t.failures, source_keys=self.source.keys()),
            corpus_rows=sql.render("corpus/corpus_rows", embeddings=t.embeddings, failures=t.failures),
            delete_departed_embeddings=sql.render("corpus/delete_departed", target=t.embeddings),
            delete_departed_failures=sql.render("corpus/delete_departed", target=t.failures),
            todo=sql.render("corpus/todo", source=self.source.rows(), embeddings=t.embeddings, failures=t.failures, model_version=version),
            other_versions=sql.render("corpus/other_versions", embeddings=t.embeddings, model_version=version),
            batch=sql.render("corpus/batch", batch_size=self.batch_size),
            batch_text=sql.render("corpus/batch_text"),
            embed=sql.render(
                "corpus/embed", error=self.embedder.error(), embedded=self.embedder.embed(sql.render("corpus/batch_text"), Purpose.DOCUMENT)
            ),
            model_dims=sql.render("corpus/model_dims", embeddings=t.embeddings, model_version=version),
            check_vectors=sql.render("corpus/check_vectors"),
            lease_renew=sql.render("corpus/lease_renew", **lease, lease_minutes=self.lease_minutes),
            lease_held=sql.render("corpus/lease_held", **lease),
            clear_embeddings=sql.render("corpus/clear_batch", target=t.embeddings),
            clear_failures=sql.render("corpus/clear_batch", target=t.failures),
            insert_embedded=sql.render("corpus/insert_embedded", embeddings=t.embeddings, model_version=version),
            insert_failed=sql.render(
                "corpus/insert_failed",
                failures=t.failures,
                model_version=version,
                max_attempts=self.max_attempts,
                free_rejections=FREE_REJECTIONS,
            ),
            drop_other_dims=sql.render("corpus/drop_other_dims", embeddings=t.embeddings, model_version=version),
            log_run=sql.render("corpus/log_run", runs=t.runs, model=model, model_version=version),
            lease_release=sql.render("corpus/lease_release", **lease),
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
        dataset, table_id = self.tables.embeddings.rsplit(".", 1)
        return sql.render("corpus/index_when_qualified", dataset=dataset, table_id=table_id, min_bytes=MIN_INDEX_BYTES, create=create)

    def procedure(self) -> sql.Fragment:
        s = self.statements()
        index = self.index()
        return sql.render(
            "corpus/procedure",
            procedure=self.procedure_id,
            embeddings=self.tables.embeddings,
            source_table=self.source.table,
            corpus=self.corpus,
            model=self.model,
            location=self.location,
            max_delete_percent=self.max_delete_percent,
            dims="NULL" if self.embedder.dims is None else self.embedder.dims,
            time_budget_minutes=self.time_budget_minutes,
            index=sql.render("corpus/no_index") if index is None else sql.render("corpus/index_step", index=index),
            **{f.name: getattr(s, f.name) for f in fields(Statements)},
        )

    def status(self) -> sql.Fragment:
        """This model's row of the corpus's status view: source rows = embedded + pending + failed, and why."""
        source = self.source.rows()

        def reasons(status: str) -> sql.Fragment:
            return sql.render(
                "corpus/status_reasons", failures=self.tables.failures, source=source, status=status, model_version=self.model_version
            )

        return sql.render(
            "corpus/status_model",
            model=self.model,
            model_version=self.model_version,
            source=source,
            embeddings=self.tables.embeddings,
            failures=self.tables.failures,
            runs=self.tables.runs,
            failed_by_reason=reasons("failed"),
            pending_by_reason=reasons("retry"),
            repeated_keys=self.source.repeated_keys(),
        )

    @property
    def search(self) -> Search:
        """Search of the rows this model version embedded (a new version's rows once it has them)."""
        base = sql.render("corpus/search_base", embeddings=self.tables.embeddings, model_version=self.model_version)
        return Search(self.embedder, base, ("doc_id", "content"), "corpus", self.corpus, self.model)
