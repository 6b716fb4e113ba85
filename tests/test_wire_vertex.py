"""The Vertex AI model and deployment resources through the real aiplatform_v1 clients, over gRPC, against a server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from bqml_text_embeddings import retry
from bqml_text_embeddings.models.bert import tf_serving_container
from bqml_text_embeddings.vertex import ops as vertex_ops
from bqml_text_embeddings.vertex.resources import VertexDeploymentProvider, VertexModelProvider
from tests.wire.clients import vertex_factory
from tests.wire.dropping_proxy import DroppingProxy
from tests.wire.vertex_server import VertexServer

PARENT = "projects/my-proj/locations/us-central1"
ENDPOINT = f"{PARENT}/endpoints/1234567890"
IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
LABELS = {vertex_ops.DIGEST_LABEL: "abc123", vertex_ops.OWNER_LABEL: "my-proj-dev", "app": "bqml-text-embeddings"}
MODEL_PROPS = {
    "project": "my-proj",
    "region": "us-central1",
    "display_name": "bert",
    "artifact_uri": "gs://bert-artifacts/bert_model/abc123/",
    "container": {"image_uri": IMAGE},
    "labels": LABELS,
}
SERVING_IMAGE = "us-central1-docker.pkg.dev/my-proj/bqml-te-dev/tensorflow/serving:2.20.0"
# What the program declares for the TensorFlow Serving runtime; Pulumi hands numbers over as floats.
TF_SERVING_PROPS = {
    **MODEL_PROPS,
    "container": {**tf_serving_container(SERVING_IMAGE), "ports": [{"container_port": 8080.0}]},
}
SAVED_MODEL_FILES = ("saved_model.pb", "fingerprint.pb", "variables/variables.index", "variables/variables.data-00000-of-00001")
QUOTA = "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus"


@pytest.fixture
def vertex() -> Iterator[VertexServer]:
    server = VertexServer(PARENT).start()
    server.add_endpoint(ENDPOINT)
    yield server
    server.stop()


class Wired:
    def __init__(self, server: VertexServer, address: str | None = None, real_sleep_cap: float = 0.0) -> None:
        self.factory = vertex_factory(address or server.address, real_sleep_cap)
        self.models = VertexModelProvider(self.factory)
        self.deployments = VertexDeploymentProvider(self.factory)

    @property
    def sleeps(self) -> list[float]:
        return self.factory.sleeps

    def deployment_props(self, model_name: str, high: int = 1) -> dict:
        return {
            "project": "my-proj", "region": "us-central1", "endpoint": ENDPOINT, "model_name": model_name, "display_name": "bert",
            "machine_type": "n1-standard-2", "min_replica_count": 1, "max_replica_count": high,
        }


def test_create_uploads_and_polls_the_operation_to_completion(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    created = wired.models.create(dict(MODEL_PROPS))
    (request,) = vertex.called("UploadModel")
    assert request.parent == PARENT
    assert request.model.artifact_uri == MODEL_PROPS["artifact_uri"]
    assert request.model.container_spec.image_uri == IMAGE
    spec = request.model.container_spec  # a prebuilt image: no command, ports or routes of ours
    assert (list(spec.command), list(spec.args), list(spec.ports), spec.predict_route, spec.health_route) == ([], [], [], "", "")
    assert dict(request.model.labels) == LABELS and request.model.display_name == "bert"
    assert vertex.called("GetOperation"), "the client must poll the upload to completion"
    assert created.outs["model_name"] in vertex.models and created.id == created.outs["model_name"]
    (listing,) = vertex.called("ListModels")
    assert 'labels.bqml-te-digest="abc123"' in listing.filter


def test_a_second_create_adopts_the_first_upload(vertex: VertexServer) -> None:
    first = Wired(vertex).models.create(dict(MODEL_PROPS))
    again = Wired(vertex).models.create(dict(MODEL_PROPS))
    assert again.outs["model_name"] == first.outs["model_name"] and len(vertex.models) == 1


def test_delete_and_delete_again(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    created = wired.models.create(dict(MODEL_PROPS))
    wired.models.delete(created.id, dict(created.outs))
    assert vertex.models == {}
    wired.models.delete(created.id, dict(created.outs))  # NOT_FOUND counts as deleted


def test_transient_faults_and_a_failed_operation_are_asked_again(vertex: VertexServer) -> None:
    vertex.inject("ListModels", grpc.StatusCode.UNAVAILABLE, "Connection reset by peer")
    vertex.inject("UploadModel", grpc.StatusCode.RESOURCE_EXHAUSTED, "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests")
    vertex.fail_next_operation("UploadModel", grpc.StatusCode.UNAVAILABLE, "The service is currently unavailable.")
    wired = Wired(vertex)
    created = wired.models.create(dict(MODEL_PROPS))
    assert len(vertex.called("UploadModel")) == 3  # refused, its operation failed, then done: each asked anew
    assert list(vertex.models) == [created.outs["model_name"]]
    first = retry.TRANSIENT.initial
    assert wired.sleeps == [first, first, first * 2]  # the listing's one retry, then the upload's two
    assert vertex.faults_injected == 3


def test_a_permanent_error_fails_at_once_with_the_servers_message(vertex: VertexServer) -> None:
    vertex.inject("UploadModel", grpc.StatusCode.INVALID_ARGUMENT, "Model directory is expected to contain exactly one of: [saved_model.pb, saved_model.pbtxt].")
    wired = Wired(vertex)
    with pytest.raises(vertex_ops.VertexError, match=r"Model Registry: .*exactly one of"):
        wired.models.create(dict(MODEL_PROPS))
    assert wired.sleeps == []


def test_deploy_update_and_delete_on_the_endpoint(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    model = wired.models.create(dict(MODEL_PROPS)).outs["model_name"]
    created = wired.deployments.create(wired.deployment_props(model))
    (request,) = vertex.called("DeployModel")
    assert request.endpoint == ENDPOINT and request.deployed_model.model == model
    assert request.deployed_model.dedicated_resources.machine_spec.machine_type == "n1-standard-2"
    assert dict(request.traffic_split) == {"0": 100}
    endpoint = vertex.endpoints[ENDPOINT]
    assert dict(endpoint.traffic_split) == {created.outs["deployed_model_id"]: 100}

    resized = wired.deployments.update(created.id, dict(created.outs), wired.deployment_props(model, high=2)).outs
    names = [name for name, _ in vertex.calls if name in ("DeployModel", "UndeployModel")]
    assert names == ["DeployModel", "DeployModel", "UndeployModel"]  # the new one first
    assert [d.id for d in endpoint.deployed_models] == [resized["deployed_model_id"]]

    wired.deployments.delete(created.id, resized)
    assert list(endpoint.deployed_models) == []


def test_a_quota_error_in_deploy_fails_fast(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    model = wired.models.create(dict(MODEL_PROPS)).outs["model_name"]
    vertex.fail_next_operation("DeployModel", grpc.StatusCode.RESOURCE_EXHAUSTED, QUOTA)
    with pytest.raises(vertex_ops.VertexError, match="custom_model_serving_cpus"):
        wired.deployments.create(wired.deployment_props(model))
    assert len(vertex.called("DeployModel")) == 1 and wired.sleeps == []


def test_read_sees_what_was_changed_by_hand(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    model = wired.models.create(dict(MODEL_PROPS))
    deployment = wired.deployments.create(wired.deployment_props(model.outs["model_name"]))
    assert wired.models.read(model.id, dict(model.outs)).outs == model.outs
    assert wired.deployments.read(deployment.id, dict(deployment.outs)).outs == deployment.outs

    vertex.endpoints[ENDPOINT].deployed_models = []  # undeployed in the console
    assert wired.deployments.read(deployment.id, dict(deployment.outs)).id == ""
    del vertex.models[model.outs["model_name"]]  # deleted in the console
    gone = wired.models.read(model.id, dict(model.outs))
    assert gone.id == "" and gone.outs == {}


def test_a_dropped_connection_is_asked_again(vertex: VertexServer) -> None:
    proxy = DroppingProxy(vertex.address)
    try:
        wired = Wired(vertex, address=proxy.address, real_sleep_cap=2.0)  # the channel reconnects in real time
        wired.models.create(dict(MODEL_PROPS))  # the channel is up
        model = next(iter(vertex.models))
        proxy.drop_next()
        created = wired.deployments.create(wired.deployment_props(model))
        assert proxy.dropped == 1
        assert [d.id for d in vertex.endpoints[ENDPOINT].deployed_models] == [created.outs["deployed_model_id"]]
        assert wired.sleeps == [retry.TRANSIENT.initial]
    finally:
        proxy.stop()


def _lay_out(server: VertexServer, props: dict, version_dir: str) -> None:
    server.objects = {f"{props['artifact_uri']}{version_dir}{path}" for path in SAVED_MODEL_FILES}


def test_tensorflow_serving_is_uploaded_as_a_custom_container_and_serves_a_numbered_version(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    _lay_out(vertex, TF_SERVING_PROPS, "1/")
    created = wired.models.create(dict(TF_SERVING_PROPS))
    (request,) = vertex.called("UploadModel")
    spec = request.model.container_spec  # decoded into aiplatform_v1.ModelContainerSpec
    assert spec.image_uri == SERVING_IMAGE and SERVING_IMAGE.startswith("us-central1-docker.pkg.dev/")  # the model's region
    assert list(spec.command) == ["/usr/bin/tensorflow_model_server"]
    assert list(spec.args) == [
        "--model_name=bert",
        "--model_base_path=$(AIP_STORAGE_URI)",
        "--rest_api_port=8080",
        "--port=8500",
        "--file_system_poll_wait_seconds=0",
    ]
    assert [p.container_port for p in spec.ports] == [8080]  # AIP_HTTP_PORT, where the REST API listens
    assert (spec.predict_route, spec.health_route) == ("/v1/models/bert:predict", "/v1/models/bert/metadata")
    assert list(spec.env) == []
    assert request.model.artifact_uri == MODEL_PROPS["artifact_uri"]  # the base path; versions under it

    deployment = wired.deployments.create(wired.deployment_props(created.outs["model_name"]))
    assert [d.id for d in vertex.endpoints[ENDPOINT].deployed_models] == [deployment.outs["deployed_model_id"]]
    assert wired.models.create(dict(TF_SERVING_PROPS)).outs == created.outs  # adopted, not uploaded again
    assert len(vertex.called("UploadModel")) == 1


def test_a_flat_artifact_never_serves_under_tensorflow_serving(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    _lay_out(vertex, TF_SERVING_PROPS, "")  # saved_model.pb at the top, as the prebuilt image wants
    model = wired.models.create(dict(TF_SERVING_PROPS)).outs["model_name"]
    with pytest.raises(vertex_ops.VertexError, match=r"No versions of servable bert found under base path gs://bert-artifacts/bert_model/abc123/"):
        wired.deployments.create(wired.deployment_props(model))
    assert list(vertex.endpoints[ENDPOINT].deployed_models) == []


def test_the_prebuilt_image_serves_the_flat_layout_and_not_a_versioned_one(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    _lay_out(vertex, MODEL_PROPS, "")
    model = wired.models.create(dict(MODEL_PROPS)).outs["model_name"]
    wired.deployments.create(wired.deployment_props(model))
    _lay_out(vertex, MODEL_PROPS, "1/")
    with pytest.raises(vertex_ops.VertexError, match=r"exactly one of: \[saved_model.pb"):
        wired.deployments.create(wired.deployment_props(model, high=2))


def test_an_image_outside_the_models_region_is_refused_at_upload(vertex: VertexServer) -> None:
    wired = Wired(vertex)
    multi_regional = {**TF_SERVING_PROPS, "container": tf_serving_container("us-docker.pkg.dev/my-proj/mirror/tensorflow/serving:2.20.0")}
    with pytest.raises(vertex_ops.VertexError, match=r"must be in an Artifact Registry repository in us-central1"):
        wired.models.create(multi_regional)
    assert vertex.models == {} and wired.sleeps == []
