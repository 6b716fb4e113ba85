"""Tutorial step 3: NNLM or SWIVEL imported into BigQuery ML from the bucket."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, imported
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.build import BuiltModel
from bqml_text_embeddings.naming import model_id
from bqml_text_embeddings.steps.artifacts import ModelArtifact
from stack.config import Settings


class ImportedModel(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        built: BuiltModel,
        bucket: gcp.storage.Bucket,
        dataset: gcp.bigquery.Dataset,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:ImportedModel", name, None, opts)
        self.model_id = model_id(settings, built.model)
        self.embedder: Embedder = imported(self.model_id, built.output_name, built.dims)
        self.artifact = ModelArtifact(f"{built.model}-savedmodel", built, bucket, pulumi.ResourceOptions(parent=self))
        model_path = self.artifact.uri.apply(lambda uri: f"{uri}*")
        self.statement = SqlStatement(
            f"{built.model}-create-model",
            project=settings.project,
            location=settings.location,
            sql_text=model_path.apply(lambda path: sql.render("create_tensorflow_model", model=self.model_id, model_path=path)),
            makes=("MODEL", self.model_id),
            expect=model_path.apply(lambda path: {"modelUri": path}),
            depends_on=[dataset, *self.artifact.objects],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.versions = [self.statement.sql]  # the SQL names the artifact's digest
        self.register_outputs({"model_id": self.model_id})
