"""Tutorial step 4: BERT in the Vertex AI Model Registry, on an endpoint, behind a BigQuery remote model."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from infra import sql, vertex_ops
from infra.artifacts import ModelArtifact
from infra.config import Settings
from infra.naming import LABELS, connection_id, endpoint_numeric_id, model_id, owner_label
from infra.sql_statement import SqlStatement
from infra.vertex_resources import VertexDeployment, VertexModel
from model_build import BuiltModel
from model_build.check import INPUT_NAME


class BertServing(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        built: BuiltModel,
        bucket: gcp.storage.Bucket,
        dataset: gcp.bigquery.Dataset,
        services: dict[str, gcp.projects.Service],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:vertex:BertServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = pulumi.get_stack()
        self.model_id = model_id(settings, "bert")
        self.artifact = ModelArtifact("bert-savedmodel", built, bucket, child)

        self.connection = gcp.bigquery.Connection(
            "vertex-connection",
            project=settings.project,
            location=settings.location,
            connection_id=connection_id(settings),
            friendly_name="Vertex AI endpoint for bert_model",
            cloud_resource={},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[services["bigqueryconnection.googleapis.com"]]),
        )
        service_account = self.connection.cloud_resource.apply(lambda c: c.service_account_id if c else None)
        self.grant = gcp.projects.IAMMember(
            "connection-may-call-vertex",
            project=settings.project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", service_account),
            opts=child,
        )

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
        connection_ref = f"{settings.project}.{settings.location.lower()}.{connection_id(settings)}"
        self.statement = SqlStatement(
            "bert-create-remote-model",
            project=settings.project,
            location=settings.location,
            sql=self.endpoint_url.apply(
                lambda url: sql.render(
                    "create_remote_model", model=self.model_id, input_column=INPUT_NAME, connection=connection_ref, endpoint=url
                )
            ),
            drop_sql=sql.render("drop_model", model=self.model_id),
            wait_for_iam=True,
            depends_on=[dataset, self.connection, self.grant, self.deployment],
            opts=child,
        )
        # The remote model's SQL names only the endpoint; a new model deployed behind it is a new version.
        self.versions = [self.statement.sql, self.deployment.deployed_model_id]
        self.register_outputs({"model_id": self.model_id, "endpoint": endpoint_path})
