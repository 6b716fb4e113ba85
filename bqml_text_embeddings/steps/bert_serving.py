"""Tutorial step 4: BERT in the Vertex AI Model Registry, on an endpoint, behind a BigQuery remote model."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder, endpoint
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.build import BuiltModel, runtimes
from bqml_text_embeddings.build.check import INPUT_NAME
from bqml_text_embeddings.naming import LABELS, endpoint_numeric_id, model_id, owner_label, serving_repository_id
from bqml_text_embeddings.steps.artifacts import ModelArtifact
from bqml_text_embeddings.steps.vertex_connection import VertexConnection
from bqml_text_embeddings.vertex import ops as vertex_ops
from bqml_text_embeddings.vertex.resources import VertexDeployment, VertexModel
from stack.config import Settings

SERVED_NAME = "bert"  # TensorFlow Serving's name for the model: in --model_name and both routes
HTTP_PORT = 8080  # Vertex AI sends health checks and predictions to the first `ports` entry (AIP_HTTP_PORT)
VERSION_DIR = "1/"  # TensorFlow Serving serves numbered version directories under --model_base_path


def tf_serving_container(image: str) -> dict:
    """The ModelContainerSpec that runs TensorFlow Serving's own image as a Vertex AI custom container.

    The image's entrypoint fixes the REST port (8501) and the model path (/models/...), so the
    command is the server itself. `$(AIP_STORAGE_URI)` is Vertex AI's gs:// copy of artifact_uri,
    which TensorFlow Serving reads directly. The routes are TensorFlow Serving's REST API: predict
    takes {"instances": [...]} and answers {"predictions": [...]}, what the prebuilt image exchanges,
    so BigQuery's remote model sends and reads the same. The health route is the model's metadata,
    which answers 200 only once the model is loaded (it needs the servable; the model status,
    GET /v1/models/bert, already answers 200 while the version is LOADING).
    """
    return {
        "image_uri": image,
        "command": ["/usr/bin/tensorflow_model_server"],
        "args": [
            f"--model_name={SERVED_NAME}",
            "--model_base_path=$(AIP_STORAGE_URI)",
            f"--rest_api_port={HTTP_PORT}",
            "--port=8500",
            # The artifact never changes under its digest prefix: load it once, poll Cloud Storage no more.
            "--file_system_poll_wait_seconds=0",
        ],
        "ports": [{"container_port": HTTP_PORT}],
        "predict_route": f"/v1/models/{SERVED_NAME}:predict",
        "health_route": f"/v1/models/{SERVED_NAME}/metadata",
    }


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
        self.embedder: Embedder = endpoint(self.model_id, built.dims)
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
        runtime = runtimes.get(settings.bert.runtime)
        self.artifact = ModelArtifact(
            "bert-savedmodel", built, self.bucket, child, version_dir="" if runtime.prebuilt else VERSION_DIR
        )
        self.repository = None
        image: pulumi.Input[str] | None = settings.bert.serving_image
        if image is None:
            # Vertex AI takes images only from Artifact Registry, in a repository in the model's region.
            # A Docker Hub remote repository there serves TensorFlow Serving's image: no copy, no Docker
            # daemon. Vertex AI ingests the image at upload and never reads this path again.
            self.repository = gcp.artifactregistry.Repository(
                "bert-serving-images",
                project=settings.project,
                location=settings.region,
                repository_id=serving_repository_id(stack),
                format="DOCKER",
                mode="REMOTE_REPOSITORY",
                description="Docker Hub, for TensorFlow Serving's image that serves BERT on Vertex AI.",
                remote_repository_config={"description": "Docker Hub", "docker_repository": {"public_repository": "DOCKER_HUB"}},
                labels=LABELS,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[services["artifactregistry.googleapis.com"]]),
            )
            # By digest once one is pinned (model_build/runtimes.py): the tag on Docker Hub could be moved.
            image = pulumi.Output.concat(
                settings.region, "-docker.pkg.dev/", settings.project, "/", self.repository.repository_id, "/", runtime.reference
            )
        container = (
            pulumi.Output.from_input(image).apply(lambda uri: {"image_uri": uri})
            if runtime.prebuilt
            else pulumi.Output.from_input(image).apply(tf_serving_container)
        )

        vertex_api = services["aiplatform.googleapis.com"]
        self.vertex_model = VertexModel(
            "bert-registry-model",
            {
                "project": settings.project,
                "region": settings.region,
                "display_name": "bert",
                "artifact_uri": self.artifact.uri,
                "container": container,
                "labels": {
                    **LABELS,
                    vertex_ops.DIGEST_LABEL: built.digest[:16],
                    vertex_ops.OWNER_LABEL: owner_label(settings.project, stack),
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[vertex_api, *self.artifact.objects, *([self.repository] if self.repository else [])]
            ),
        )
        # A shared public endpoint, the only kind a BigQuery remote model reaches (CREATE MODEL reference:
        # "Dedicated public endpoints, Private Service Connect endpoints, and private endpoints aren't
        # supported"): no dedicated_endpoint_enabled, private_service_connect_config or network.
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
            location=settings.location_of("bert"),
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
