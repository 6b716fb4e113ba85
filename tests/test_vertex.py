"""Vertex AI model upload and deployment resources against fake clients."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc

from bqml_text_embeddings import retry
from bqml_text_embeddings.vertex import ops as vertex_ops
from bqml_text_embeddings.vertex.resources import VertexDeploymentProvider, VertexModelProvider
from tests.fakes import FakeEndpointService, FakeModelService, container_spec

PARENT = "projects/my-proj/locations/us-central1"
ENDPOINT = f"{PARENT}/endpoints/1234567890"
LABELS = {vertex_ops.DIGEST_LABEL: "abc123", vertex_ops.OWNER_LABEL: "my-proj-dev", "app": "bqml-text-embeddings"}
MODEL_PROPS = {
    "project": "my-proj",
    "region": "us-central1",
    "display_name": "bert",
    "artifact_uri": "gs://bucket/bert_model/abc123/",
    "container": {"image_uri": "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"},
    "labels": LABELS,
}
TF_SERVING = {
    "image_uri": "us-central1-docker.pkg.dev/my-proj/bqml-te-dev/tensorflow/serving:2.20.0",
    "command": ["/usr/bin/tensorflow_model_server"],
    "args": ["--model_name=bert", "--model_base_path=$(AIP_STORAGE_URI)", "--rest_api_port=8080"],
    "ports": [{"container_port": 8080}],
    "predict_route": "/v1/models/bert:predict",
    "health_route": "/v1/models/bert/metadata",
}


class Vertex:
    def __init__(self, model_faults=None, endpoint_faults=None) -> None:
        self.models = FakeModelService(model_faults)
        self.endpoints = FakeEndpointService(endpoint_faults)
        self.endpoints.add_endpoint(ENDPOINT)
        self.sleeps: list[float] = []
        self.regions: list[str] = []

    def clients(self, region: str) -> vertex_ops.Clients:
        self.regions.append(region)
        return vertex_ops.Clients(models=self.models, endpoints=self.endpoints, sleep=self.sleeps.append)

    def deployment_props(self, model_name: str, machine: str = "n1-standard-2", low: int = 1, high: int = 1) -> dict:
        return {
            "project": "my-proj",
            "region": "us-central1",
            "endpoint": ENDPOINT,
            "model_name": model_name,
            "display_name": "bert",
            "machine_type": machine,
            "min_replica_count": low,
            "max_replica_count": high,
        }


# --- model upload ---------------------------------------------------------------------------


def test_create_uploads_the_artifact_with_the_serving_image() -> None:
    v = Vertex()
    result = VertexModelProvider(v.clients).create(dict(MODEL_PROPS))
    (request,) = v.models.called("upload_model")
    assert request == {
        "parent": PARENT,
        "model": {
            "display_name": "bert",
            "artifact_uri": "gs://bucket/bert_model/abc123/",
            "container_spec": {"image_uri": "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"},  # prebuilt: the image only
            "labels": LABELS,
        },
    }
    assert result.id == result.outs["model_name"] and result.outs["model_name"] in v.models.models
    assert v.regions == ["us-central1"]


def test_an_interrupted_create_is_adopted_not_duplicated() -> None:
    v = Vertex()
    prebuilt = container_spec(MODEL_PROPS["container"])
    existing = v.models.add(PARENT, display_name="bert", artifact_uri="gs://bucket/bert_model/abc123", labels=dict(LABELS), container_spec=prebuilt)
    v.models.add(PARENT, display_name="bert", artifact_uri="gs://bucket/bert_model/abc123", labels={**LABELS, vertex_ops.OWNER_LABEL: "other-stack"}, container_spec=prebuilt)
    result = VertexModelProvider(v.clients).create(dict(MODEL_PROPS))
    assert result.outs["model_name"] == existing
    assert v.models.called("upload_model") == []
    (listing,) = v.models.called("list_models")
    assert 'labels.bqml-te-digest="abc123"' in listing["filter"] and 'labels.bqml-te-owner="my-proj-dev"' in listing["filter"]


def test_a_custom_container_is_uploaded_with_its_command_ports_and_routes_and_adopted_only_as_such() -> None:
    v = Vertex()
    provider = VertexModelProvider(v.clients)
    prebuilt = provider.create(dict(MODEL_PROPS)).outs["model_name"]
    # The same artifact under another runtime is another model: not the prebuilt upload adopted.
    props = {**MODEL_PROPS, "container": {**TF_SERVING, "ports": [{"container_port": 8080.0}]}}  # Pulumi's numbers are floats
    served = provider.create(props).outs["model_name"]
    assert served != prebuilt
    (_, request) = v.models.called("upload_model")
    assert request["model"]["container_spec"] == TF_SERVING  # the port a whole number again
    assert provider.create(props).outs["model_name"] == served and len(v.models.called("upload_model")) == 2
    assert provider.diff(served, {**props, "model_name": served}, dict(MODEL_PROPS)).replaces == ["container"]


def test_state_from_before_custom_containers_is_the_same_prebuilt_model() -> None:
    """A stack made when the image was `serving_image` keeps its model on the prebuilt runtime: no upload,
    no replacement (whose create would adopt this very model and whose delete would then remove it)."""
    provider = VertexModelProvider()
    legacy = {k: v for k, v in MODEL_PROPS.items() if k != "container"}
    legacy.update(serving_image=MODEL_PROPS["container"]["image_uri"], model_name="m")
    assert not provider.diff("m", legacy, dict(MODEL_PROPS)).changes
    moved = provider.diff("m", legacy, {**MODEL_PROPS, "container": TF_SERVING})
    assert moved.replaces == ["container"]


def test_transient_faults_in_upload_are_retried() -> None:
    v = Vertex(model_faults={
        "list_models": [gexc.ServiceUnavailable("try later")],
        "upload_model": [gexc.TooManyRequests("quota")],
        "upload_model.result": [gexc.ServiceUnavailable("blip")],
    })
    result = VertexModelProvider(v.clients).create(dict(MODEL_PROPS))
    assert result.outs["model_name"] in v.models.models
    assert len(v.sleeps) == 3 and len(v.models.models) == 1  # retried, never duplicated


def test_a_permanent_upload_error_carries_the_servers_message() -> None:
    v = Vertex(model_faults={"upload_model": [gexc.BadRequest("Model directory gs://bucket/bert_model/abc123/ is expected to contain exactly one of: [saved_model.pb, saved_model.pbtxt].")]})
    with pytest.raises(vertex_ops.VertexError, match=r"^uploading gs://bucket/bert_model/abc123/ to the Model Registry: Model directory .* exactly one of"):
        VertexModelProvider(v.clients).create(dict(MODEL_PROPS))
    assert v.sleeps == []


def test_model_delete_tolerates_a_model_already_gone() -> None:
    v = Vertex()
    provider = VertexModelProvider(v.clients)
    name = provider.create(dict(MODEL_PROPS)).outs["model_name"]
    provider.delete(name, {**MODEL_PROPS, "model_name": name})
    assert v.models.models == {}
    provider.delete(name, {**MODEL_PROPS, "model_name": name})  # NotFound: fine


def test_any_model_change_replaces_create_before_delete() -> None:
    provider = VertexModelProvider()
    olds = {**MODEL_PROPS, "model_name": "m"}
    assert not provider.diff("m", olds, dict(MODEL_PROPS)).changes
    changed = provider.diff("m", olds, {**MODEL_PROPS, "artifact_uri": "gs://bucket/bert_model/def456/"})
    assert changed.replaces == ["artifact_uri"] and changed.delete_before_replace is False


# --- deployment -------------------------------------------------------------------------


def test_create_deploys_with_dedicated_resources_and_all_traffic() -> None:
    v = Vertex()
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    result = VertexDeploymentProvider(v.clients).create(v.deployment_props(model, "n1-standard-4", 1, 3))
    (request,) = v.endpoints.called("deploy_model")
    assert request == {
        "endpoint": ENDPOINT,
        "deployed_model": {
            "model": model,
            "display_name": "bert",
            "dedicated_resources": {
                "machine_spec": {"machine_type": "n1-standard-4"},
                "min_replica_count": 1,
                "max_replica_count": 3,
            },
        },
        "traffic_split": {"0": 100},
    }
    deployed_id = result.outs["deployed_model_id"]
    assert v.endpoints.endpoints[ENDPOINT].traffic_split == {deployed_id: 100}


def test_an_interrupted_deploy_is_adopted() -> None:
    v = Vertex()
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    existing = v.endpoints.add_deployment(ENDPOINT, f"{model}@1", "n1-standard-2", 1, 1, traffic=100)
    result = VertexDeploymentProvider(v.clients).create(v.deployment_props(model))
    assert result.outs["deployed_model_id"] == existing
    assert v.endpoints.called("deploy_model") == []


def test_a_new_model_is_deployed_before_the_old_one_is_undeployed() -> None:
    v = Vertex()
    provider = VertexDeploymentProvider(v.clients)
    old_model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://old", labels={})
    new_model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://new", labels={})
    old = provider.create(v.deployment_props(old_model)).outs
    diff = provider.diff("id", old, v.deployment_props(new_model))
    assert diff.changes and diff.replaces == []  # an update, so the endpoint stays

    v.endpoints.calls.clear()
    new = provider.update("id", old, v.deployment_props(new_model)).outs
    order = [name for name, _ in v.endpoints.calls if name in ("deploy_model", "undeploy_model")]
    assert order == ["deploy_model", "undeploy_model"]
    assert v.endpoints.called("undeploy_model") == [{"endpoint": ENDPOINT, "deployed_model_id": old["deployed_model_id"]}]
    endpoint = v.endpoints.endpoints[ENDPOINT]
    assert [d.model for d in endpoint.deployed_models] == [new_model]
    assert endpoint.traffic_split == {new["deployed_model_id"]: 100}


def test_resizing_also_deploys_first() -> None:
    v = Vertex()
    provider = VertexDeploymentProvider(v.clients)
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    old = provider.create(v.deployment_props(model)).outs
    new = provider.update("id", old, v.deployment_props(model, high=2)).outs
    assert new["deployed_model_id"] != old["deployed_model_id"]
    (only,) = v.endpoints.endpoints[ENDPOINT].deployed_models
    assert only.dedicated_resources.max_replica_count == 2


def test_delete_undeploys_every_deployment_of_the_model_even_without_traffic() -> None:
    v = Vertex()
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    other = v.models.add(PARENT, display_name="other", artifact_uri="gs://y", labels={})
    ours = v.endpoints.add_deployment(ENDPOINT, model, "n1-standard-2", 1, 1, traffic=100)
    stray = v.endpoints.add_deployment(ENDPOINT, model, "n1-standard-2", 1, 1, traffic=None)  # no traffic-split entry
    theirs = v.endpoints.add_deployment(ENDPOINT, other, "n1-standard-2", 1, 1, traffic=0)
    VertexDeploymentProvider(v.clients).delete("id", {**v.deployment_props(model), "deployed_model_id": ours})
    undeployed = [r["deployed_model_id"] for r in v.endpoints.called("undeploy_model")]
    assert sorted(undeployed) == sorted([ours, stray])
    assert [d.id for d in v.endpoints.endpoints[ENDPOINT].deployed_models] == [theirs]


def test_delete_when_the_endpoint_or_deployment_is_already_gone() -> None:
    v = Vertex()
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    provider = VertexDeploymentProvider(v.clients)
    provider.delete("id", {**v.deployment_props(model), "deployed_model_id": "555"})  # not on the endpoint
    del v.endpoints.endpoints[ENDPOINT]
    provider.delete("id", {**v.deployment_props(model), "deployed_model_id": "555"})  # endpoint gone


def test_transient_faults_in_deploy_are_retried_and_permanent_ones_reported() -> None:
    v = Vertex(endpoint_faults={"deploy_model": [gexc.ServiceUnavailable("unavailable")], "deploy_model.result": [gexc.TooManyRequests("quota")]})
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    VertexDeploymentProvider(v.clients).create(v.deployment_props(model))
    assert v.sleeps == [retry.TRANSIENT.initial, retry.TRANSIENT.initial * 2]
    assert len(v.endpoints.called("deploy_model")) == 3  # a failed operation is asked for again
    assert len(v.endpoints.endpoints[ENDPOINT].deployed_models) == 1

    quota = "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus"
    w = Vertex(endpoint_faults={"deploy_model.result": [gexc.ResourceExhausted(quota)]})
    model = w.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    with pytest.raises(vertex_ops.VertexError, match=f"deploying {model} to {ENDPOINT}: .*custom_model_serving_cpus"):
        VertexDeploymentProvider(w.clients).create(w.deployment_props(model))


def test_moving_to_another_endpoint_replaces_the_deployment() -> None:
    provider = VertexDeploymentProvider()
    v = Vertex()
    props = v.deployment_props("m")
    diff = provider.diff("id", {**props, "deployed_model_id": "1"}, {**props, "endpoint": f"{PARENT}/endpoints/2"})
    assert diff.replaces == ["endpoint"]


# --- read: drift seen by pulumi refresh ------------------------------------------------------


def test_read_of_an_unchanged_model_and_deployment_changes_nothing() -> None:
    v = Vertex()
    models, deployments = VertexModelProvider(v.clients), VertexDeploymentProvider(v.clients)
    model = models.create(dict(MODEL_PROPS))
    deployment = deployments.create(v.deployment_props(model.outs["model_name"]))
    for provider, created, news in ((models, model, dict(MODEL_PROPS)), (deployments, deployment, v.deployment_props(model.outs["model_name"]))):
        read = provider.read(created.id, dict(created.outs))
        assert read.id == created.id and read.outs == created.outs
        assert not provider.diff(read.id, read.outs, news).changes


def test_a_vertex_model_deleted_by_hand_is_gone() -> None:
    v = Vertex()
    provider = VertexModelProvider(v.clients)
    created = provider.create(dict(MODEL_PROPS))
    v.models.models.clear()
    read = provider.read(created.id, dict(created.outs))
    assert read.id == "" and read.outs == {}


def test_a_vertex_model_with_another_artifact_is_replaced() -> None:
    v = Vertex()
    provider = VertexModelProvider(v.clients)
    created = provider.create(dict(MODEL_PROPS))
    v.models.models[created.outs["model_name"]].artifact_uri = "gs://elsewhere/bert/"
    read = provider.read(created.id, dict(created.outs))
    assert read.outs["artifact_uri"] == "gs://elsewhere/bert/"
    assert provider.diff(read.id, read.outs, dict(MODEL_PROPS)).replaces == ["artifact_uri"]


def test_an_undeployed_model_is_gone_and_a_resized_one_is_updated() -> None:
    v = Vertex()
    provider = VertexDeploymentProvider(v.clients)
    model = v.models.add(PARENT, display_name="bert", artifact_uri="gs://x", labels={})
    created = provider.create(v.deployment_props(model))
    only = v.endpoints.endpoints[ENDPOINT].deployed_models[0]
    only.dedicated_resources.max_replica_count = 3  # scaled by hand in the console
    read = provider.read(created.id, dict(created.outs))
    assert read.outs["max_replica_count"] == 3
    diff = provider.diff(read.id, read.outs, v.deployment_props(model))
    assert diff.changes and diff.replaces == []
    v.endpoints.endpoints[ENDPOINT].deployed_models.clear()  # undeployed by hand
    assert provider.read(created.id, dict(created.outs)).id == ""
    del v.endpoints.endpoints[ENDPOINT]  # the endpoint itself deleted
    assert provider.read(created.id, dict(created.outs)).id == ""
