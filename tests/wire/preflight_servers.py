"""The APIs `./dev preflight` reads, on 127.0.0.1: Service Usage, Artifact Registry (its API and its Docker
registry endpoint) and Cloud Quotas over REST, checked by their discovery documents (tests/wire/rest_server.py),
and Resource Manager's `Projects/TestIamPermissions` over gRPC with the real `google.iam.v1` message types.

Each holds a small model of the project (which APIs are on, which permissions the caller holds,
which repositories and images exist, which quotas apply) that a test sets up, and answers as the
API does, including its refusals.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent import futures
from typing import Any

import grpc
from google.iam.v1 import iam_policy_pb2
from werkzeug import Request, Response

from tests.wire.discovery import Document
from tests.wire.rest_server import ApiError, RestServer

PROJECT_NUMBER = "123456789012"


class ServiceUsageServer(RestServer):
    """services.batchGet; `enabled` holds the APIs that are on."""

    BATCH_GET = "serviceusage.services.batchGet"

    def __init__(self, project: str, enabled: set[str]) -> None:
        self.project = project
        self.enabled = set(enabled)
        super().__init__(Document.shipped("serviceusage.v1.json"), {self.BATCH_GET: self._batch_get})

    def _batch_get(self, params: dict[str, str], args: dict[str, list[str]]) -> dict[str, Any]:
        parent = f"{params['v1Id']}/{params['v1Id1']}"
        names = args.get("names", [])
        if len(names) > 30:
            raise ApiError(400, "A single request can get a maximum of 30 services at a time.")
        services = []
        for name in names:
            match = re.fullmatch(r"(projects/[^/]+)/services/([a-z0-9.-]+)", name)
            if match is None or match[1] != parent:
                raise ApiError(400, f"Invalid service name {name!r} for parent {parent!r}")
            if match[1] != f"projects/{self.project}":
                raise ApiError(403, f"Permission denied on resource project {match[1]}")
            api = match[2]
            services.append(
                {
                    "name": f"projects/{PROJECT_NUMBER}/services/{api}",
                    "parent": f"projects/{PROJECT_NUMBER}",
                    "state": "ENABLED" if api in self.enabled else "DISABLED",
                }
            )
        return {"services": services}


# The OCI Distribution Specification's repository name and reference grammar.
_REPOSITORY_NAME = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")
_REFERENCE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}|sha256:[0-9a-f]{64}")


class ArtifactRegistryServer(RestServer):
    """repositories.get, and HEAD /v2/NAME/manifests/REFERENCE of the Docker Registry HTTP API.

    `repositories` by resource name; `images` by PROJECT/REPOSITORY/IMAGE:REFERENCE for standard
    repositories; `docker_hub` holds IMAGE:TAG that Docker Hub serves, which a Docker Hub remote
    repository resolves. A real host serves one location; here every host the client asks for
    lands on this server, and `hosts` records which ones.
    """

    GET = "artifactregistry.projects.locations.repositories.get"
    MANIFEST = "registry.manifests.head"

    def __init__(self, project: str) -> None:
        self.project = project
        self.repositories: dict[str, dict[str, Any]] = {}
        self.images: dict[str, str] = {}
        self.docker_hub: dict[str, str] = {}
        self.hosts: list[str] = []
        super().__init__(Document.shipped("artifactregistry.v1.json"), {self.GET: self._get})
        self.route(self.MANIFEST, "HEAD", r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$", self._manifest)

    def add_remote_repository(self, location: str, repository_id: str, upstream: str = "DOCKER_HUB") -> str:
        name = f"projects/{self.project}/locations/{location}/repositories/{repository_id}"
        self.repositories[name] = {
            "name": name,
            "format": "DOCKER",
            "mode": "REMOTE_REPOSITORY",
            "remoteRepositoryConfig": {"description": "Docker Hub", "dockerRepository": {"publicRepository": upstream}},
            "createTime": "2026-11-25T09:00:00Z",
        }
        return name

    def add_standard_repository(self, location: str, repository_id: str, project: str | None = None) -> str:
        name = f"projects/{project or self.project}/locations/{location}/repositories/{repository_id}"
        self.repositories[name] = {"name": name, "format": "DOCKER", "mode": "STANDARD_REPOSITORY"}
        return name

    def _get(self, params: dict[str, str], _args: dict[str, list[str]]) -> dict[str, Any]:
        name = f"projects/{params['projectsId']}/locations/{params['locationsId']}/repositories/{params['repositoriesId']}"
        if name not in self.repositories:
            raise ApiError(404, f'Requested entity was not found. Repository "{name}" not found')
        return self.repositories[name]

    def _manifest(self, params: dict[str, str], request: Request) -> Response:
        name, reference = params["name"], params["reference"]
        if not _REPOSITORY_NAME.fullmatch(name) or not _REFERENCE.fullmatch(reference):
            self.problems.append(f"not an OCI repository name and reference: {name} {reference}")
            return _registry_error(400, "NAME_INVALID", f"invalid repository name or reference {name}:{reference}")
        if "manifest" not in request.headers.get("Accept", ""):
            self.problems.append(f"HEAD {name}:{reference} without a manifest media type in Accept")
        project, repository_id, image = [*name.split("/", 2), "", ""][:3]
        found = [repo for key, repo in self.repositories.items() if key.startswith(f"projects/{project}/") and key.endswith(f"/{repository_id}")]
        if not found or not image:
            return _registry_error(404, "NAME_UNKNOWN", f"Repository {project}/{repository_id} not found")
        remote = found[0].get("mode") == "REMOTE_REPOSITORY"
        digest = self.docker_hub.get(f"{image}:{reference}") if remote else self.images.get(f"{name}:{reference}")
        if digest is None:
            return _registry_error(404, "MANIFEST_UNKNOWN", f"Failed to fetch \"{reference}\" from request \"/v2/{name}/manifests/{reference}\".")
        return Response(status=200, headers={"Docker-Content-Digest": digest, "Content-Type": "application/vnd.oci.image.index.v1+json"})


def _registry_error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"errors": [{"code": code, "message": message}]}), status=status, content_type="application/json")


class CloudQuotasServer(RestServer):
    """quotaInfos.list for one service, `page_size` QuotaInfos a page; `infos` are the service's QuotaInfos."""

    LIST = "cloudquotas.projects.locations.services.quotaInfos.list"

    def __init__(self, project: str, page_size: int = 2) -> None:
        self.project = project
        self.page_size = page_size
        self.infos: list[dict[str, Any]] = []
        super().__init__(Document.beside("cloudquotas.v1.json"), {self.LIST: self._list})

    def add(self, quota_id: str, metric: str, dimensions: list[str], values: list[tuple[dict[str, str], int]], service: str = "aiplatform.googleapis.com") -> None:
        """A quota and the value in effect per dimensions ({} for every value not named elsewhere)."""
        self.infos.append(
            {
                "name": f"projects/{PROJECT_NUMBER}/locations/global/services/{service}/quotaInfos/{quota_id}",
                "quotaId": quota_id,
                "metric": metric,
                "service": service,
                "refreshInterval": "minute" if "requests" in metric else "",
                "containerType": "PROJECT",
                "dimensions": dimensions,
                "isPrecise": True,
                "dimensionsInfos": [
                    {"dimensions": dims, "details": {"value": str(value)}, "applicableLocations": [dims["region"]] if "region" in dims else []}
                    for dims, value in sorted(values, key=lambda v: -len(v[0]))  # most specific first, as the API orders them
                ],
            }
        )

    def _list(self, params: dict[str, str], args: dict[str, list[str]]) -> dict[str, Any]:
        if params["projectsId"] not in (self.project, PROJECT_NUMBER):
            raise ApiError(403, f"Permission denied on projects/{params['projectsId']}")
        if params["locationsId"] != "global":
            raise ApiError(400, "The location must be global")
        mine = [info for info in self.infos if info["service"] == params["servicesId"]]
        start = int((args.get("pageToken") or ["page-0"])[0].removeprefix("page-"))
        page = mine[start : start + self.page_size]
        more = start + self.page_size < len(mine)
        return {"quotaInfos": page, **({"nextPageToken": f"page-{start + self.page_size}"} if more else {})}


class ResourceManagerServer:
    """google.cloud.resourcemanager.v3.Projects/TestIamPermissions; `held` are the caller's permissions on the project."""

    METHOD = "TestIamPermissions"
    # IAM permissions are SERVICE.RESOURCE.VERB; wildcards are not allowed in testIamPermissions.
    _PERMISSION = re.compile(r"[a-z][a-z0-9]*\.[a-zA-Z]+\.[a-zA-Z]+")

    def __init__(self, project: str, held: set[str]) -> None:
        self.project = project
        self.held = set(held)
        self.calls: list[iam_policy_pb2.TestIamPermissionsRequest] = []
        self._faults: list[tuple[grpc.StatusCode, str]] = []
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        handler = grpc.unary_unary_rpc_method_handler(
            self._test,
            request_deserializer=iam_policy_pb2.TestIamPermissionsRequest.FromString,
            response_serializer=iam_policy_pb2.TestIamPermissionsResponse.SerializeToString,
        )
        self._server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("google.cloud.resourcemanager.v3.Projects", {self.METHOD: handler}),))
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def start(self) -> ResourceManagerServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def inject(self, code: grpc.StatusCode, message: str) -> None:
        self._faults.append((code, message))

    def _test(self, request: iam_policy_pb2.TestIamPermissionsRequest, context: grpc.ServicerContext) -> iam_policy_pb2.TestIamPermissionsResponse:
        with self._lock:
            self.calls.append(request)
            if self._faults:
                code, message = self._faults.pop(0)
                context.abort(code, message)
            if request.resource != f"projects/{self.project}":
                context.abort(grpc.StatusCode.PERMISSION_DENIED, f"Permission denied on resource '{request.resource}' (or it may not exist).")
            bad = [p for p in request.permissions if not self._PERMISSION.fullmatch(p)]
            if bad:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Permission {bad[0]} is not valid.")
            return iam_policy_pb2.TestIamPermissionsResponse(permissions=[p for p in request.permissions if p in self.held])
