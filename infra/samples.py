"""Tutorial step 5: sample embeddings with ML.PREDICT, kept as a table per model."""

from __future__ import annotations

import pulumi

from infra import sql
from model_build.check import INPUT_NAME as INPUT_COLUMN
from infra.config import Settings
from infra.naming import sample_table_id
from infra.sql_statement import SqlStatement


class SamplePredictions(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        model: str,
        model_id: str,
        model_statement: SqlStatement,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:SamplePredictions", name, None, opts)
        self.table_id = sample_table_id(settings, model)
        samples = settings.samples
        self.statement = SqlStatement(
            f"{model}-sample-embeddings",
            project=settings.project,
            location=settings.location,
            sql=sql.render(
                "sample_embeddings",
                table=self.table_id,
                model=model_id,
                column=samples.column,
                input_column=INPUT_COLUMN,
                source_table=samples.table,
                rows=samples.rows,
            ),
            drop_sql=sql.render("drop_table", table=self.table_id),
            # A replaced model leaves the statement's text unchanged; re-run it all the same.
            triggers=[model_statement.sql],
            depends_on=[model_statement.statement],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"table_id": self.table_id})
