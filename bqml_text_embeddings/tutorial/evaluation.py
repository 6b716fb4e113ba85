"""After the tutorial: every chosen model's embeddings measured on one task, side by side.

Each model embeds the same labelled IMDB reviews; a LOGISTIC_REG classifier is
trained on its training-split embeddings and ML.EVALUATE scores it on the test
split. `embedding_quality` holds a row per model, read back into the stack
output `embeddingQuality`. Every statement re-runs only when what it reads
re-ran (its triggers), so an unchanged `pulumi up` measures nothing again.

A model that lives apart (BERT in gcp:region) is measured beside itself, on a
copy of the reviews, and its row of figures is copied back for embedding_quality.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Purpose, ServedModel
from bqml_text_embeddings.bigquery.row_copy import RowCopy
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.naming import (
    embedding_quality_table,
    evaluation_embeddings_table,
    evaluation_reviews_table,
    model_quality_table,
    quality_row_table,
    sentiment_model_id,
)
from bqml_text_embeddings.tutorial.samples import lives_apart
from bqml_text_embeddings.tutorial.spec import IMDB_REVIEWS
from bqml_text_embeddings.tutorial.spec import TutorialSpec as Settings


@dataclass(frozen=True)
class Made:
    """A table a later statement reads: its id, a value that changes whenever it is made again, its resource."""

    table_id: str
    version: pulumi.Output[str]
    resource: pulumi.Resource


def _made(statement: SqlStatement, table_id: str) -> Made:
    return Made(table_id, statement.job_id, statement.ready)


def _copied(copy: RowCopy) -> Made:
    return Made(copy.table_id, copy.job_id, copy.copy)


class ModelEvaluation(pulumi.ComponentResource):
    """One model: its embeddings of the reviews, its classifier, its row of figures."""

    def __init__(
        self,
        model: str,
        settings: Settings,
        served: ServedModel,
        reviews: Made,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:ModelEvaluation", f"{model}-evaluation", None, opts)
        embeddings_id = evaluation_embeddings_table(settings, model)
        classifier_id = sentiment_model_id(settings, model)
        self.table_id = model_quality_table(settings, model)

        def statement(name: str, text: pulumi.Input[str], makes: tuple, triggers: list, after: list) -> SqlStatement:
            return SqlStatement(
                f"{model}-{name}",
                project=settings.project,
                location=settings.location_of(model),
                sql_text=text,
                makes=makes,
                triggers=triggers,
                depends_on=after,
                opts=pulumi.ResourceOptions(parent=self),
            )

        rows = sql.render("evaluation_rows", reviews=reviews.table_id)
        self.embeddings = statement(
            "evaluation-embeddings",
            served.embedder.apply(
                lambda e: str(sql.render("embeddings_table", table=embeddings_id, embeddings=e.embed(rows, Purpose.CLASSIFICATION)))
            ),
            ("TABLE", embeddings_id),
            [*served.versions, reviews.version],
            [served.ready, reviews.resource],
        )
        self.classifier = statement(
            "sentiment-classifier",
            sql.render("sentiment_classifier", model=classifier_id, embeddings=embeddings_id),
            ("MODEL", classifier_id),
            [self.embeddings.job_id],
            [self.embeddings.ready],
        )
        self.quality = statement(
            "quality",
            sql.render(
                "model_quality",
                table=self.table_id,
                name=model,
                embeddings=embeddings_id,
                rows=settings.evaluation.rows,
                classifier=classifier_id,
            ),
            ("TABLE", self.table_id),
            [self.classifier.job_id],
            [self.classifier.ready, self.embeddings.ready],
        )
        self.register_outputs({"quality_table": self.table_id})


class EmbeddingQuality(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        served: Mapping[str, ServedModel],
        dataset: gcp.bigquery.Dataset,
        datasets: Mapping[str, gcp.bigquery.Dataset],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`dataset`: the stack's; `datasets`: each model's own."""
        super().__init__("bqml-text-embeddings:bigquery:EmbeddingQuality", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        reviews_id = evaluation_reviews_table(settings)
        self.reviews = SqlStatement(
            "evaluation-reviews",
            project=settings.project,
            location=settings.location,
            sql_text=sql.render(
                "evaluation_reviews", table=reviews_id, source_table=IMDB_REVIEWS, per_class=settings.evaluation.per_class
            ),
            makes=("TABLE", reviews_id),
            depends_on=[dataset],
            opts=child,
        )
        reviews = _made(self.reviews, reviews_id)
        self.models: dict[str, ModelEvaluation] = {}
        rows: dict[str, Made] = {}  # each model's row of figures, where embedding_quality reads it
        for model, component in served.items():
            if lives_apart(settings, model):
                rows[model] = self._measure_apart(model, settings, component, reviews, datasets[model], dataset)
            else:
                self.models[model] = measured = ModelEvaluation(model, settings, component, reviews, child)
                rows[model] = _made(measured.quality, measured.table_id)
        self.table_id = embedding_quality_table(settings)
        self.table = SqlStatement(
            "embedding-quality",
            project=settings.project,
            location=settings.location,
            sql_text=sql.render(
                "embedding_quality",
                table=self.table_id,
                rows=sql.union_all(sql.render("quality_row", table=row.table_id) for row in rows.values()),
            ),
            makes=("TABLE", self.table_id),
            triggers=[row.version for row in rows.values()],
            report_sql=sql.render("embedding_quality_report", table=self.table_id),
            depends_on=[row.resource for row in rows.values()],
            opts=child,
        )
        # {model: {dims, rows, accuracy, ...}}, as BigQuery has them after this `pulumi up`.
        self.figures = self.table.report.apply(
            lambda rows: {row["model"]: {k: v for k, v in row.items() if k != "model"} for row in rows or []}
        )
        self.register_outputs({"table_id": self.table_id})

    def _measure_apart(
        self,
        model: str,
        settings: Settings,
        served: ServedModel,
        reviews: Made,
        beside: gcp.bigquery.Dataset,
        dataset: gcp.bigquery.Dataset,
    ) -> Made:
        """A model in another location: the reviews copied beside it, measured there, its row of figures copied back."""
        child = pulumi.ResourceOptions(parent=self)
        copy = RowCopy(
            f"{model}-evaluation-reviews",
            project=settings.project,
            query=sql.render("evaluation_rows", reviews=reviews.table_id),
            source_location=settings.location,
            destination=evaluation_reviews_table(settings, model),
            destination_location=settings.location_of(model),
            triggers=[reviews.version],
            depends_on=[reviews.resource, beside],
            opts=child,
        )
        self.models[model] = measured = ModelEvaluation(model, settings, served, _copied(copy), child)
        back = RowCopy(
            f"{model}-quality-row",
            project=settings.project,
            query=sql.render("quality_row", table=measured.table_id),
            source_location=settings.location_of(model),
            destination=quality_row_table(settings, model),
            destination_location=settings.location,
            triggers=[measured.quality.job_id],
            depends_on=[measured.quality.ready, dataset],
            opts=child,
        )
        return _copied(back)
