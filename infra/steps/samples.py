"""Tutorial step 5: sample embeddings, kept as a table per model with the same leading columns."""

from __future__ import annotations

from typing import Protocol

import pulumi

from infra.bigquery import sql
from infra.bigquery.embedding import Embedder, Purpose
from infra.bigquery.statement import SqlStatement
from infra.config import Settings
from infra.naming import sample_table_id


class ServedModel(Protocol):
    """What the steps after a model need of it (ImportedModel, BertServing, ManagedEmbedding)."""

    model_id: str
    embedder: Embedder
    statement: SqlStatement
    versions: list[pulumi.Output[str]]  # change whenever the model would answer differently


def sample_rows(settings: Settings, rows: int) -> sql.Fragment:
    samples = settings.samples
    return sql.render("sample_rows", column=samples.column, source_table=samples.table, rows=rows)


class SamplePredictions(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        model: str,
        served: ServedModel,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:SamplePredictions", name, None, opts)
        self.table_id = sample_table_id(settings, model)
        # The sample table is what semantic search searches: embedded as documents.
        embeddings = served.embedder.embed(sample_rows(settings, settings.samples.rows), Purpose.DOCUMENT)
        self.statement = SqlStatement(
            f"{model}-sample-embeddings",
            project=settings.project,
            location=settings.location,
            sql_text=sql.render("embeddings_table", table=self.table_id, embeddings=embeddings),
            makes=("TABLE", self.table_id),
            # A replaced model leaves this statement's text unchanged; re-run it all the same.
            triggers=served.versions,
            depends_on=[served.statement.statement],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"table_id": self.table_id})
