"""Tutorial step 4: BERT in the Vertex AI Model Registry, on an endpoint, behind a BigQuery remote model."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from infra.bigquery import sql
from infra.bigquery.statement import SqlStatement
from infra.config import Settings
from infra.naming import LABELS, connection_id, endpoint_numeric_id, model_id, owner_label
from infra.steps.artifacts import ModelArtifact
from infra.vertex import ops as vertex_ops
from infra.vertex.resources import VertexDeployment, VertexModel
from model_build import BuiltModel
from model_build.check import INPUT_NAME

IDENTITY_PROPAGATION = "120s"  # magic-modules' own tests wait 120 s for this identity


class BertServing(pulumi.ComponentResource):
    def __init__(
        self,
        name: str,
        settings: Settings,
        built: BuiltModel,
        dataset: gcp.bigquery.Dataset,
        services: dict[str, gcp.projects.Service],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:vertex:BertServing", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = pulumi.get_stack()
        self.model_id = model_id(settings, "bert")
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
        # A brand-new connection's service account is not yet known to IAM ("Service account ... does
        # not exist"), and the provider retries that only if the policy changed meanwhile. Wait once,
        # when the identity is new (the trigger), as Google's blueprints do with time_sleep.
        self.identity_propagation = pulumi_time.Sleep(
            "connection-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"service_account": service_account},
            opts=child,
        )
        self.grant = gcp.projects.IAMMember(
            "connection-may-call-vertex",
            project=settings.project,
            role="roles/aiplatform.user",
            member=pulumi.Output.concat("serviceAccount:", service_account),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.identity_propagation]),
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
            sql_text=self.endpoint_url.apply(
                lambda url: sql.render(
                    "create_remote_model", model=self.model_id, input_column=INPUT_NAME, connection=connection_ref, endpoint=url
                )
            ),
            makes=("MODEL", self.model_id),
            expect=self.endpoint_url.apply(lambda url: {"endpoint": url}),
            wait_for_iam=True,
            depends_on=[dataset, self.connection, self.grant, self.deployment],
            opts=child,
        )
        # The remote model's SQL names only the endpoint; a new model deployed behind it is a new version.
        self.versions = [self.statement.sql, self.deployment.deployed_model_id]
        self.register_outputs({"model_id": self.model_id, "endpoint": endpoint_path, "bucket": self.bucket.name})
