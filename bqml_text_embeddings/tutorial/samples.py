"""Tutorial step 5: sample embeddings, kept as a table per model with the same leading columns."""

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Purpose, ServedModel
from bqml_text_embeddings.bigquery.row_copy import RowCopy
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.naming import sample_source_table, sample_table_id
from bqml_text_embeddings.tutorial.spec import TutorialSpec as Settings

PASTE_ROWS = 10  # rows the ready-to-paste queries embed


def lives_apart(settings: Settings, model: str) -> bool:
    """The model lives in another location than the stack's tables: it reads copies of their rows."""
    return settings.location_of(model) != settings.location


def sample_rows(settings: Settings, model: str, rows: int) -> sql.Fragment:
    """`rows` sample rows as `content`: samplePredictions.table's, or their copy beside a model that lives apart."""
    if lives_apart(settings, model):
        return sql.render("sample_rows", column="content", source_table=sample_source_table(settings, model), rows=rows)
    return _source_rows(settings, rows)


def _source_rows(settings: Settings, rows: int) -> sql.Fragment:
    samples = settings.samples
    return sql.render("sample_rows", column=samples.column, source_table=samples.table, rows=rows)


class SamplePredictions(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        model: str,
        served: ServedModel,
        dataset: gcp.bigquery.Dataset,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:SamplePredictions", name, None, opts)
        self.table_id = sample_table_id(settings, model)
        # A model that lives apart reads samplePredictions' rows (and the paste-ready queries' ten) from a copy beside it.
        source = (
            RowCopy(
                f"{model}-sample-source",
                project=settings.project,
                query=_source_rows(settings, max(settings.samples.rows, PASTE_ROWS)),
                source_location=settings.location,
                destination=sample_source_table(settings, model),
                destination_location=settings.location_of(model),
                depends_on=[dataset],
                opts=pulumi.ResourceOptions(parent=self),
            )
            if lives_apart(settings, model)
            else None
        )
        # The sample table is what semantic search searches: embedded as documents.
        rows = sample_rows(settings, model, settings.samples.rows)
        self.statement = SqlStatement(
            f"{model}-sample-embeddings",
            project=settings.project,
            location=settings.location_of(model),
            sql_text=served.embedder.apply(
                lambda embedder: str(sql.render("embeddings_table", table=self.table_id, embeddings=embedder.embed(rows, Purpose.DOCUMENT)))
            ),
            makes=("TABLE", self.table_id),
            # A replaced model (or a new copy of the rows) leaves this statement's text unchanged; re-run it all the same.
            triggers=[*served.versions, *([source.job_id] if source else [])],
            depends_on=[served.ready, *([source.copy] if source else [])],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"table_id": self.table_id})
