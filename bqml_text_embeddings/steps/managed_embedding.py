"""A fourth model beside the tutorial's: Vertex AI's managed text embedding model, as a remote model.

Nothing to build, upload or deploy: BigQuery calls Google's endpoint through
the shared connection, and Vertex AI bills per call.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, managed
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.naming import model_id
from bqml_text_embeddings.steps.vertex_connection import VertexConnection
from stack.config import Settings


class ManagedEmbedding(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        dataset: gcp.bigquery.Dataset,
        connection: VertexConnection,
        services: dict[str, gcp.projects.Service],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:ManagedEmbedding", name, None, opts)
        self.model_id = model_id(settings, name)
        self.embedder: Embedder = managed(self.model_id, settings.text_embedding.endpoint)
        self.statement = SqlStatement(
            f"{name}-create-remote-model",
            project=settings.project,
            location=settings.location,
            sql_text=sql.render(
                "create_managed_model",
                model=self.model_id,
                connection=connection.reference,
                endpoint=settings.text_embedding.endpoint,
            ),
            makes=("MODEL", self.model_id),
            # BigQuery may report the endpoint as a full publisher-model URL: no `expect` to compare.
            wait_for_iam=True,
            depends_on=[dataset, connection.connection, connection.grant, services["aiplatform.googleapis.com"]],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.versions = [self.statement.sql]  # the SQL names the endpoint
        self.register_outputs({"model_id": self.model_id})
