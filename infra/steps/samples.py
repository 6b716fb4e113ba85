"""Tutorial step 5: sample embeddings with ML.PREDICT, kept as a table per model."""

from __future__ import annotations

from typing import Protocol

import pulumi

from infra.bigquery import sql
from infra.bigquery.statement import SqlStatement
from infra.config import Settings
from infra.naming import sample_table_id
from model_build.check import INPUT_NAME as INPUT_COLUMN


class ServedModel(Protocol):
    """What sample predictions need of a model component (ImportedModel, BertServing)."""

    model_id: str
    statement: SqlStatement
    versions: list[pulumi.Output[str]]  # change whenever the model would answer differently


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
        samples = settings.samples
        self.statement = SqlStatement(
            f"{model}-sample-embeddings",
            project=settings.project,
            location=settings.location,
            sql_text=sql.render(
                "sample_embeddings",
                table=self.table_id,
                model=served.model_id,
                column=samples.column,
                input_column=INPUT_COLUMN,
                source_table=samples.table,
                rows=samples.rows,
            ),
            makes=("TABLE", self.table_id),
            # A replaced model leaves this statement's text unchanged; re-run it all the same.
            triggers=served.versions,
            depends_on=[served.statement.statement],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"table_id": self.table_id})
