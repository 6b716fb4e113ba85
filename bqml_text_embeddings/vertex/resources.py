"""Pulumi resources for a Vertex AI model upload and its deployment to an endpoint.

Dynamic providers over `vertex_ops`. They build their clients inside each
method (a pickled provider must hold no client or credentials).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings.vertex import ops

ClientsFactory = Callable[[str], ops.Clients]


def _changed(olds: dict[str, Any], news: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [key for key in keys if olds.get(key) != news.get(key)]


class VertexModelProvider(ResourceProvider):
    """A model in the Vertex AI Model Registry, made from a SavedModel in Cloud Storage.

    `container` is its ModelContainerSpec (`image_uri`, and a custom container's command, args,
    ports and routes), as a dict.
    """

    _KEYS = ("project", "region", "display_name", "artifact_uri", "container", "labels")

    def __init__(self, clients: ClientsFactory = ops.make_clients) -> None:
        self._clients = clients

    def create(self, props: dict[str, Any]) -> CreateResult:
        name = ops.upload_or_adopt(
            self._clients(props["region"]),
            f"projects/{props['project']}/locations/{props['region']}",
            props["display_name"],
            props["artifact_uri"],
            dict(props["container"]),
            dict(props["labels"]),
        )
        return CreateResult(name, {**props, "model_name": name})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        model = ops.find_model(self._clients(props["region"]), props["model_name"])
        if model is None:
            return ReadResult("", {})  # deleted by hand: the next `pulumi up` uploads it again
        ours = ops.same_artifact(model.artifact_uri, props["artifact_uri"])
        return ReadResult(id_, {**props, "artifact_uri": props["artifact_uri"] if ours else model.artifact_uri})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Any change is a new model: uploaded first, the deployment moves to it, then this one goes.
        if "container" not in olds and "serving_image" in olds:  # state from before custom containers
            olds = {**olds, "container": {"image_uri": olds["serving_image"]}}
        changed = _changed(olds, news, self._KEYS)
        return DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({**news, "model_name": olds["model_name"]})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ops.delete_model(self._clients(props["region"]), props["model_name"])


class VertexDeploymentProvider(ResourceProvider):
    """A model deployed to an endpoint with dedicated resources and all its traffic."""

    _REPLACING = ("project", "region", "endpoint")
    _UPDATING = ("model_name", "display_name", "machine_type", "min_replica_count", "max_replica_count")

    def __init__(self, clients: ClientsFactory = ops.make_clients) -> None:
        self._clients = clients

    @staticmethod
    def _spec(props: dict[str, Any]) -> ops.DeploySpec:
        return ops.DeploySpec(
            model_name=props["model_name"],
            display_name=props["display_name"],
            machine_type=props["machine_type"],
            min_replica_count=int(props["min_replica_count"]),
            max_replica_count=int(props["max_replica_count"]),
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        deployed_id = ops.deploy_or_adopt(self._clients(props["region"]), props["endpoint"], self._spec(props))
        return CreateResult(f"{props['endpoint']}/deployedModels/{deployed_id}", {**props, "deployed_model_id": deployed_id})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        deployed = ops.find_deployment(self._clients(props["region"]), props["endpoint"], props["deployed_model_id"])
        if deployed is None:
            return ReadResult("", {})  # undeployed by hand: the next `pulumi up` deploys again
        resources = deployed.dedicated_resources
        return ReadResult(
            id_,
            {
                **props,
                "model_name": ops.unversioned(deployed.model),
                "machine_type": resources.machine_spec.machine_type,
                "min_replica_count": resources.min_replica_count,
                "max_replica_count": resources.max_replica_count,
            },
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = _changed(olds, news, self._REPLACING + self._UPDATING)
        replaces = [key for key in changed if key in self._REPLACING]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=True)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        deployed_id = ops.redeploy(
            self._clients(news["region"]), news["endpoint"], olds["deployed_model_id"], self._spec(news)
        )
        return UpdateResult({**news, "deployed_model_id": deployed_id})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        ops.undeploy_model_everywhere_on(
            self._clients(props["region"]), props["endpoint"], props["model_name"], props.get("deployed_model_id")
        )


class VertexModel(pulumi.dynamic.Resource):
    model_name: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], provider: ResourceProvider | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(provider or VertexModelProvider(), name, {**props, "model_name": None}, opts)


class VertexDeployment(pulumi.dynamic.Resource):
    deployed_model_id: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], provider: ResourceProvider | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(provider or VertexDeploymentProvider(), name, {**props, "deployed_model_id": None}, opts)
