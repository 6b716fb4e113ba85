"""Vertex AI model upload and deployment, which no Pulumi/Terraform resource offers.

Every function takes its clients as a parameter (the tests' seam); the real
ones come from `make_clients`, with Application Default Credentials. Each request
and the long-running operation it starts are retried together on transient
errors (a failed operation has to be asked for again, not just re-polled).
Creation is idempotent by lookup: a create that was interrupted after the
server acted is adopted on the next run instead of duplicated.

google.api_core is imported inside the functions that judge its errors: the
program imports this module for its providers' sake on every preview, and that
import alone costs ~0.3 s (it scans every installed distribution).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bqml_text_embeddings import retry

UPLOAD_TIMEOUT = 1800.0
DEPLOY_TIMEOUT = 3600.0  # deploying to a new endpoint commonly takes 10-30 minutes
DIGEST_LABEL = "bqml-te-digest"
OWNER_LABEL = "bqml-te-owner"


@dataclass
class Clients:
    models: Any  # aiplatform_v1.ModelServiceClient
    endpoints: Any  # aiplatform_v1.EndpointServiceClient
    sleep: Callable[[float], None] = time.sleep


def make_clients(region: str) -> Clients:
    from google.cloud import aiplatform_v1

    options = {"api_endpoint": f"{region}-aiplatform.googleapis.com"}
    return Clients(
        models=aiplatform_v1.ModelServiceClient(client_options=options),
        endpoints=aiplatform_v1.EndpointServiceClient(client_options=options),
    )


class VertexError(Exception):
    """Vertex AI refused a request: its own message, and what we asked."""


def _call(clients: Clients, what: str, fn: Callable[[], Any]) -> Any:
    from google.api_core import exceptions as gexc

    try:
        return retry.call(fn, retry.is_transient, retry.TRANSIENT, clients.sleep)
    except retry.RetriesExhausted as exc:
        raise VertexError(f"{what}: still failing after {exc.waited:.0f}s of retries: {_message(exc.last)}") from exc.last
    except gexc.NotFound:
        raise
    except gexc.GoogleAPICallError as exc:
        raise VertexError(f"{what}: {_message(exc)}") from exc


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)


def unversioned(model_name: str) -> str:
    return model_name.split("@", 1)[0]


# --- Model Registry ---------------------------------------------------------------------------


def upload_or_adopt(
    clients: Clients,
    parent: str,
    display_name: str,
    artifact_uri: str,
    container: dict[str, Any],
    labels: dict[str, str],
) -> str:
    """The model resource name for this artifact and container: an existing upload of them, or a new one.

    `container` is a ModelContainerSpec as a dict: `image_uri`, and for a custom container
    `command`, `args`, `ports` ([{"container_port": N}]), `predict_route`, `health_route`.
    """
    wanted = f'labels.{DIGEST_LABEL}="{labels[DIGEST_LABEL]}" AND labels.{OWNER_LABEL}="{labels[OWNER_LABEL]}"'
    existing = _call(
        clients, f"listing models in {parent}", lambda: list(clients.models.list_models(request={"parent": parent, "filter": wanted}))
    )
    for model in existing:
        if same_artifact(model.artifact_uri, artifact_uri) and container_fields(model.container_spec) == container_fields(container):
            return unversioned(model.name)
    request = {
        "parent": parent,
        "model": {
            "display_name": display_name,
            "artifact_uri": artifact_uri,
            "container_spec": container_request(container),
            "labels": labels,
        },
    }
    result = _call(
        clients,
        f"uploading {artifact_uri} to the Model Registry",
        lambda: clients.models.upload_model(request=request).result(timeout=UPLOAD_TIMEOUT),
    )
    return unversioned(result.model)


def container_fields(spec: Any) -> dict[str, Any]:
    """A container spec as plain values, from a request dict or the API's ModelContainerSpec (absent fields empty)."""

    def get(key: str) -> Any:
        return spec.get(key) if isinstance(spec, dict) else getattr(spec, key, None)

    # Pulumi hands a dynamic provider its numbers as floats: ports are whole numbers again here.
    ports = [int(p["container_port"] if isinstance(p, dict) else p.container_port) for p in get("ports") or []]
    return {
        "image_uri": get("image_uri") or "",
        "command": list(get("command") or []),
        "args": list(get("args") or []),
        "ports": ports,
        "predict_route": get("predict_route") or "",
        "health_route": get("health_route") or "",
    }


def container_request(container: dict[str, Any]) -> dict[str, Any]:
    """The ModelContainerSpec to send: the image, and only the custom-container fields that are set."""
    fields = container_fields(container)
    spec: dict[str, Any] = {"image_uri": fields["image_uri"]}
    for key in ("command", "args", "predict_route", "health_route"):
        if fields[key]:
            spec[key] = fields[key]
    if fields["ports"]:
        spec["ports"] = [{"container_port": port} for port in fields["ports"]]
    return spec


def find_model(clients: Clients, model_name: str) -> Any | None:
    """The registry's model, or None if it is gone."""
    from google.api_core import exceptions as gexc

    try:
        return _call(clients, f"reading {model_name}", lambda: clients.models.get_model(request={"name": model_name}))
    except gexc.NotFound:
        return None


def same_artifact(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def delete_model(clients: Clients, model_name: str) -> None:
    from google.api_core import exceptions as gexc

    with contextlib.suppress(gexc.NotFound):  # already gone: that is what delete wants
        _call(
            clients,
            f"deleting {model_name}",
            lambda: clients.models.delete_model(request={"name": model_name}).result(timeout=UPLOAD_TIMEOUT),
        )


# --- Endpoint deployment ---------------------------------------------------------------------


@dataclass(frozen=True)
class DeploySpec:
    model_name: str
    display_name: str
    machine_type: str
    min_replica_count: int
    max_replica_count: int


def _deployed(clients: Clients, endpoint: str) -> list[Any]:
    found = _call(clients, f"reading {endpoint}", lambda: clients.endpoints.get_endpoint(request={"name": endpoint}))
    return list(found.deployed_models)


def _matches(deployed: Any, spec: DeploySpec) -> bool:
    resources = deployed.dedicated_resources
    return (
        unversioned(deployed.model) == spec.model_name
        and resources.machine_spec.machine_type == spec.machine_type
        and resources.min_replica_count == spec.min_replica_count
        and resources.max_replica_count == spec.max_replica_count
    )


def deploy_or_adopt(clients: Clients, endpoint: str, spec: DeploySpec) -> str:
    """The deployed-model id serving `spec` on `endpoint`: an existing one, or a new deployment with all traffic."""
    for deployed in _deployed(clients, endpoint):
        if _matches(deployed, spec):
            return deployed.id
    request = {
        "endpoint": endpoint,
        "deployed_model": {
            "model": spec.model_name,
            "display_name": spec.display_name,
            "dedicated_resources": {
                "machine_spec": {"machine_type": spec.machine_type},
                "min_replica_count": spec.min_replica_count,
                "max_replica_count": spec.max_replica_count,
            },
        },
        "traffic_split": {"0": 100},  # "0" is the model being deployed
    }
    result = _call(
        clients,
        f"deploying {spec.model_name} to {endpoint}",
        lambda: clients.endpoints.deploy_model(request=request).result(timeout=DEPLOY_TIMEOUT),
    )
    return result.deployed_model.id


def find_deployment(clients: Clients, endpoint: str, deployed_id: str) -> Any | None:
    """The deployed model `deployed_id` on `endpoint`, or None if it (or the endpoint) is gone."""
    from google.api_core import exceptions as gexc

    try:
        deployed = _deployed(clients, endpoint)
    except gexc.NotFound:
        return None
    return next((d for d in deployed if d.id == deployed_id), None)


def redeploy(clients: Clients, endpoint: str, old_id: str, spec: DeploySpec) -> str:
    """Deploys `spec` with all traffic first, then undeploys `old_id`: no gap in serving."""
    new_id = deploy_or_adopt(clients, endpoint, spec)
    if new_id != old_id:
        undeploy(clients, endpoint, [old_id])
    return new_id


def undeploy(clients: Clients, endpoint: str, deployed_ids: list[str]) -> None:
    from google.api_core import exceptions as gexc

    for deployed_id in deployed_ids:
        request = {"endpoint": endpoint, "deployed_model_id": deployed_id}
        with contextlib.suppress(gexc.NotFound):
            _call(
                clients,
                f"undeploying {deployed_id} from {endpoint}",
                lambda request=request: clients.endpoints.undeploy_model(request=request).result(timeout=DEPLOY_TIMEOUT),
            )


def undeploy_model_everywhere_on(clients: Clients, endpoint: str, model_name: str, known_id: str | None) -> None:
    """Undeploys every deployment of `model_name` on `endpoint` (listed from the endpoint
    itself: a deployment with no traffic has no traffic-split entry), so the endpoint
    and the model can then be deleted."""
    from google.api_core import exceptions as gexc

    try:
        ids = [d.id for d in _deployed(clients, endpoint) if unversioned(d.model) == model_name]
    except gexc.NotFound:
        return  # the endpoint is gone, and its deployments with it
    if known_id and known_id not in ids:
        ids.append(known_id)
    undeploy(clients, endpoint, ids)
