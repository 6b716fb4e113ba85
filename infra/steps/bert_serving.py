"""Tutorial step 4: BERT in the Vertex AI Model Registry, on an endpoint, behind a BigQuery remote model."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from infra.bigquery import sql
from infra.bigquery.embedding import Embedder, endpoint
from infra.bigquery.statement import SqlStatement
from infra.config import Settings
from infra.naming import LABELS, endpoint_numeric_id, model_id, owner_label
from infra.steps.artifacts import ModelArtifact
from infra.steps.vertex_connection import VertexConnection
from infra.vertex import ops as vertex_ops
from infra.vertex.resources import VertexDeployment, VertexModel
from model_build import BuiltModel
from model_build.check import INPUT_NAME


class BertServing(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        built: BuiltModel,
        dataset: gcp.bigquery.Dataset,
        connection: VertexConnection,
        services: dict[str, gcp.projects.Service],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:vertex:BertServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = pulumi.get_stack()
        self.model_id = model_id(settings, "bert")
        self.embedder: Embedder = endpoint(self.model_id)
        # Vertex AI reads model artifacts only from a bucket in the endpoint's region (docs: import-model),
        # and `location` is usually a multi-region: BERT gets a regional bucket of its own.
        self.bucket = gcp.storage.Bucket(
            "bert-artifacts",
            project=settings.project,
            location=settings.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,
            labels=LABELS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[services["storage.googleapis.com"]]),
        )
        self.artifact = ModelArtifact("bert-savedmodel", built, self.bucket, child)

        vertex_api = services["aiplatform.googleapis.com"]
        self.vertex_model = VertexModel(
            "bert-registry-model",
            {
                "project": settings.project,
                "region": settings.region,
                "display_name": "bert",
                "artifact_uri": self.artifact.uri,
                "serving_image": settings.bert.serving_image,
                "labels": {
                    **LABELS,
                    vertex_ops.DIGEST_LABEL: built.digest[:16],
                    vertex_ops.OWNER_LABEL: owner_label(settings.project, stack),
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[vertex_api, *self.artifact.objects]),
        )
        self.endpoint = gcp.vertex.AiEndpoint(
            "bert-endpoint",
            project=settings.project,
            location=settings.region,
            region=settings.region,
            name=endpoint_numeric_id(settings, stack),
            display_name="bert_model_endpoint",
            description="Serves BERT text embeddings to the BigQuery remote model bert_model.",
            labels=LABELS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[vertex_api]),
        )
        endpoint_path = pulumi.Output.concat(
            "projects/", settings.project, "/locations/", settings.region, "/endpoints/", self.endpoint.name
        )
        self.deployment = VertexDeployment(
            "bert-deployment",
            {
                "project": settings.project,
                "region": settings.region,
                "endpoint": endpoint_path,
                "model_name": self.vertex_model.model_name,
                "display_name": "bert",
                "machine_type": settings.bert.machine_type,
                "min_replica_count": settings.bert.min_replicas,
                "max_replica_count": settings.bert.max_replicas,
            },
            opts=child,
        )
        self.endpoint_url = pulumi.Output.concat(
            f"https://{settings.region}-aiplatform.googleapis.com/v1/", endpoint_path
        )
        self.statement = SqlStatement(
            "bert-create-remote-model",
            project=settings.project,
            location=settings.location,
            sql_text=self.endpoint_url.apply(
                lambda url: sql.render(
                    "create_remote_model", model=self.model_id, input_column=INPUT_NAME, connection=connection.reference, endpoint=url
                )
            ),
            makes=("MODEL", self.model_id),
            expect=self.endpoint_url.apply(lambda url: {"endpoint": url}),
            wait_for_iam=True,
            depends_on=[dataset, connection.connection, connection.grant, self.deployment],
            opts=child,
        )
        # The remote model's SQL names only the endpoint; a new model deployed behind it is a new version.
        self.versions = [self.statement.sql, self.deployment.deployed_model_id]
        self.register_outputs({"model_id": self.model_id, "endpoint": endpoint_path, "bucket": self.bucket.name})
