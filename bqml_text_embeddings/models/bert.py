"""BERT in the Vertex AI Model Registry, on an endpoint, behind a BigQuery remote model (the tutorial's step 4)."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp

from bqml_text_embeddings import validate
from bqml_text_embeddings.args import by_config_rules, camel, checked, depends
from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import endpoint, model_version
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.build import BuildError, runtimes
from bqml_text_embeddings.build.check import INPUT_NAME
from bqml_text_embeddings.config.bert import parse_bert
from bqml_text_embeddings.models.artifacts import ModelArtifact
from bqml_text_embeddings.models.tfhub import built_model
from bqml_text_embeddings.naming import LABELS, endpoint_numeric_id, owner_label, serving_repository_id
from bqml_text_embeddings.vertex import ops as vertex_ops
from bqml_text_embeddings.vertex.image_pin import ImagePin
from bqml_text_embeddings.vertex.resources import VertexDeployment, VertexModel

TYPE = "bqml-text-embeddings:index:BertEmbeddingModel"
BERT_KEYS = ("machine_type", "min_replicas", "max_replicas", "runtime", "serving_image")
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


class BertEmbeddingModelArgs(TypedDict):
    project: str
    """The Google Cloud project of everything it makes."""
    region: str
    """The Vertex AI region of the endpoint, its bucket and its image repository, e.g. us-central1."""
    location: str
    """The BigQuery location of the dataset the remote model lives in: the endpoint's region (BigQuery's locations page), or the multi-region holding it (the tutorial's placement)."""
    dataset: pulumi.Input[str]
    """The id of the dataset the remote model is made in."""
    connection: pulumi.Input[str]
    """The BigQuery connection it calls the endpoint through, as project.location.connection_id, in `location` (a VertexConnection's `reference`)."""
    machine_type: NotRequired[str]
    """The endpoint's machine type (default n1-standard-2)."""
    min_replicas: NotRequired[int]
    """Replicas always deployed (default 1); each is billed for every hour it is deployed."""
    max_replicas: NotRequired[int]
    """Replicas at most, 1 to 10 (default 1)."""
    runtime: NotRequired[str]
    """What serves BERT: tf-serving-2.20 (TensorFlow Serving's image, the default) or prebuilt-tf2-cpu.2-15 (Vertex AI's, refused after 2027-01-14)."""
    serving_image: NotRequired[str]
    """An Artifact Registry image of yours, in `region`, to serve with instead of the runtime's own."""
    sources: NotRequired[dict[str, str]]
    """Overrides of the TF Hub handles `bertPreprocess` and `bertEncoder` (mirrors, air-gapped builds)."""
    build_dir: NotRequired[str]
    """Where built SavedModels are cached, relative to the program (default `.build`)."""


class BertEmbeddingModel(pulumi.ComponentResource):
    """BERT (cased, L-12 H-768) from TF Hub, built with its preprocess model, uploaded to the Vertex AI Model Registry, deployed to a shared public endpoint and called from BigQuery through a remote model."""

    model_id: pulumi.Output[str]
    """The BigQuery remote model, project.dataset.bert_model."""
    embedding_model: pulumi.Output[str]
    """This model for an EmbeddedCorpus's `models`: a JSON reference (id, kind, dims, version)."""
    endpoint_url: pulumi.Output[str]
    """The shared public endpoint BigQuery calls: https://REGION-aiplatform.googleapis.com/v1/projects/P/locations/REGION/endpoints/ID."""
    bucket_name: pulumi.Output[str]
    """The regional bucket the SavedModel is uploaded to (Vertex AI reads artifacts only from its region)."""
    serving_image: pulumi.Output[str]
    """The image Vertex AI serves BERT with: TensorFlow Serving's by the digest its tag resolved to at the first `pulumi up`, else the runtime's or `serving_image`."""

    def __init__(self, name: str, args: BertEmbeddingModelArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        what = f"BertEmbeddingModel {name}"
        project, region, location = checked(
            what, args, project=validate.project_id, region=validate.region, location=validate.location
        )
        # The stack's `bert` keys, their defaults and rules (bqml_text_embeddings/config/bert.py), as arguments.
        given = {camel(key): args[key] for key in BERT_KEYS if args.get(key) is not None}  # type: ignore[literal-required]
        settings = by_config_rules(what, lambda fail: parse_bert(given, region, fail))
        runtime = runtimes.get(settings.runtime)
        serving_image = settings.serving_image
        built = built_model("bert", args.get("sources"), args.get("build_dir"))
        # Judged against the runtime that will serve it, before anything is uploaded.
        refusal = runtimes.refusal("bert", built.manifest.get("runtimes", {}), runtime.name, f"{what}: runtime")
        if refusal:
            raise BuildError(refusal)
        stack = pulumi.get_stack()
        self.model_id = pulumi.Output.from_input(args["dataset"]).apply(lambda dataset: f"{project}.{dataset}.bert_model")
        # Vertex AI reads model artifacts only from a bucket in the endpoint's region (docs: import-model),
        # and `location` is usually a multi-region: BERT gets a regional bucket of its own.
        self.bucket = gcp.storage.Bucket(
            "bert-artifacts",
            project=project,
            location=region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,
            labels=LABELS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends(opts)),
        )
        self.bucket_name = self.bucket.name
        self.artifact = ModelArtifact(
            "bert-savedmodel", built, self.bucket.name, child, version_dir="" if runtime.prebuilt else VERSION_DIR
        )
        self.repository = None
        image: pulumi.Input[str] | None = serving_image
        if image is None:
            # Vertex AI takes images only from Artifact Registry, in a repository in the model's region.
            # A Docker Hub remote repository there serves TensorFlow Serving's image: no copy, no Docker
            # daemon. Vertex AI ingests the image at upload and never reads this path again.
            self.repository = gcp.artifactregistry.Repository(
                "bert-serving-images",
                project=project,
                location=region,
                repository_id=serving_repository_id(stack),
                format="DOCKER",
                mode="REMOTE_REPOSITORY",
                description="Docker Hub, for TensorFlow Serving's image that serves BERT on Vertex AI.",
                remote_repository_config={"description": "Docker Hub", "docker_repository": {"public_repository": "DOCKER_HUB"}},
                labels=LABELS,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends(opts)),
            )
            through = pulumi.Output.concat(region, "-docker.pkg.dev/", project, "/", self.repository.repository_id, "/")
            # By digest: the tag on Docker Hub could be moved to other bytes. Pinned in build/runtimes.py
            # where the runtime names its digest, else at the first `pulumi up` and kept in the state.
            if runtime.digest is not None:
                image = pulumi.Output.concat(through, runtime.reference)
            else:
                pin = ImagePin(
                    "bert-serving-image",
                    pulumi.Output.concat(through, runtime.image),
                    pulumi.ResourceOptions(parent=self, depends_on=[*depends(opts), self.repository]),
                )
                image = pin.pinned
        self.serving_image = pulumi.Output.from_input(image)
        container = self.serving_image.apply(lambda uri: {"image_uri": uri} if runtime.prebuilt else tf_serving_container(uri))

        self.vertex_model = VertexModel(
            "bert-registry-model",
            {
                "project": project,
                "region": region,
                "display_name": "bert",
                "artifact_uri": self.artifact.uri,
                "container": container,
                "labels": {
                    **LABELS,
                    vertex_ops.DIGEST_LABEL: built.digest[:16],
                    vertex_ops.OWNER_LABEL: owner_label(project, stack),
                },
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*depends(opts), *self.artifact.objects, *([self.repository] if self.repository else [])]
            ),
        )
        # A shared public endpoint, the only kind a BigQuery remote model reaches (CREATE MODEL reference:
        # "Dedicated public endpoints, Private Service Connect endpoints, and private endpoints aren't
        # supported"): no dedicated_endpoint_enabled, private_service_connect_config or network.
        self.endpoint = gcp.vertex.AiEndpoint(
            "bert-endpoint",
            project=project,
            location=region,
            region=region,
            name=endpoint_numeric_id(project, region, stack),
            display_name="bert_model_endpoint",
            description="Serves BERT text embeddings to the BigQuery remote model bert_model.",
            labels=LABELS,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends(opts)),
        )
        endpoint_path = pulumi.Output.concat(
            "projects/", project, "/locations/", region, "/endpoints/", self.endpoint.name
        )
        self.deployment = VertexDeployment(
            "bert-deployment",
            {
                "project": project,
                "region": region,
                "endpoint": endpoint_path,
                "model_name": self.vertex_model.model_name,
                "display_name": "bert",
                "machine_type": settings.machine_type,
                "min_replica_count": settings.min_replicas,
                "max_replica_count": settings.max_replicas,
            },
            opts=child,
        )
        self.endpoint_url = pulumi.Output.concat(
            f"https://{region}-aiplatform.googleapis.com/v1/", endpoint_path
        )
        self.statement = SqlStatement(
            "bert-create-remote-model",
            project=project,
            location=location,
            sql_text=pulumi.Output.all(self.model_id, args["connection"], self.endpoint_url).apply(
                lambda ids: str(
                    sql.render("create_remote_model", model=ids[0], input_column=INPUT_NAME, connection=ids[1], endpoint=ids[2])
                )
            ),
            makes=("MODEL", self.model_id),
            expect=self.endpoint_url.apply(lambda url: {"endpoint": url}),
            wait_for_iam=True,
            depends_on=[*depends(opts), self.deployment],
            opts=child,
        )
        self.ready = self.statement.ready
        # What answers: the remote model's SQL names only the endpoint, and the model behind it is the
        # rest (a new artifact or image is a new upload). A resize redeploys the same model: its
        # vectors are the same, so nothing is embedded again.
        self.versions = [self.statement.sql, self.vertex_model.model_name]
        self.embedder = pulumi.Output.all(self.model_id, *self.versions).apply(
            lambda values: endpoint(values[0], built.dims, model_version([str(v) for v in values[1:]]))
        )
        self.embedding_model = self.embedder.apply(lambda embedder: embedder.reference())
        self.register_outputs(
            {
                "model_id": self.model_id,
                "embedding_model": self.embedding_model,
                "endpoint_url": self.endpoint_url,
                "bucket_name": self.bucket_name,
                "serving_image": self.serving_image,
            }
        )
