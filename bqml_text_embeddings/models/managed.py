"""Vertex AI's managed text embedding model as a BigQuery remote model, beside the tutorial's.

Nothing to build, upload or deploy: BigQuery calls Google's endpoint through a
connection, and Vertex AI bills per call.
"""

from typing import NotRequired, TypedDict

import pulumi

from bqml_text_embeddings import validate
from bqml_text_embeddings.args import checked, depends, optional
from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import managed, model_version
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.config.keys import TEXT_EMBEDDING

TYPE = "bqml-text-embeddings:index:ManagedEmbeddingModel"
DEFAULT_ENDPOINT = TEXT_EMBEDDING.default["endpoint"]  # the stack's textEmbedding.endpoint default


class ManagedEmbeddingModelArgs(TypedDict):
    project: str
    """The Google Cloud project of the dataset."""
    location: str
    """The dataset's BigQuery location (US, EU or a region); the connection must be in it."""
    dataset: pulumi.Input[str]
    """The id of the dataset the remote model is made in."""
    connection: pulumi.Input[str]
    """The BigQuery connection it calls Vertex AI through, as project.location.connection_id (a VertexConnection's `reference`)."""
    endpoint: NotRequired[str]
    """The Vertex AI embedding model: text-embedding-005 (the default), text-multilingual-embedding-002, gemini-embedding-001, …"""
    model_name: NotRequired[str]
    """The BigQuery model's name in the dataset (default: the component's name with `_model`, dashes as underscores)."""


class ManagedEmbeddingModel(pulumi.ComponentResource):
    """A BigQuery remote model over one of Vertex AI's managed text embedding models (`CREATE MODEL … REMOTE WITH CONNECTION … OPTIONS (ENDPOINT = …)`), used with AI.GENERATE_EMBEDDING."""

    model_id: pulumi.Output[str]
    """The BigQuery model, project.dataset.name."""
    embedding_model: pulumi.Output[str]
    """This model for an EmbeddedCorpus's `models`: a JSON reference (id, kind, dims, version)."""

    def __init__(self, name: str, args: ManagedEmbeddingModelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        project, location, endpoint, model_name = checked(
            f"ManagedEmbeddingModel {name}",
            args,
            project=validate.project_id,
            location=validate.location,
            endpoint=optional(validate.endpoint_name),
            model_name=optional(validate.dataset_id),
        )
        endpoint = endpoint or DEFAULT_ENDPOINT
        table_name = model_name or f"{name.replace('-', '_')}_model"
        self.model_id = pulumi.Output.from_input(args["dataset"]).apply(lambda dataset: f"{project}.{dataset}.{table_name}")
        self.statement = SqlStatement(
            f"{name}-create-remote-model",
            project=project,
            location=location,
            sql_text=pulumi.Output.all(self.model_id, args["connection"]).apply(
                lambda ids: str(sql.render("create_managed_model", model=ids[0], connection=ids[1], endpoint=endpoint))
            ),
            makes=("MODEL", self.model_id),
            # BigQuery may report the endpoint as a full publisher-model URL: no `expect` to compare.
            wait_for_iam=True,
            depends_on=depends(opts),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ready = self.statement.ready
        self.versions = [self.statement.sql]  # the SQL names the endpoint
        self.embedder = pulumi.Output.all(self.model_id, *self.versions).apply(
            lambda values: managed(values[0], endpoint, model_version([str(v) for v in values[1:]]))
        )
        self.embedding_model = self.embedder.apply(lambda embedder: embedder.reference())
        self.register_outputs({"model_id": self.model_id, "embedding_model": self.embedding_model})
