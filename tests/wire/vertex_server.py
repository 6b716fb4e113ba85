"""A Vertex AI gRPC server on 127.0.0.1 for the aiplatform_v1 model and endpoint service clients.

grpcio's own server, with handlers whose request deserializers are the real
`aiplatform_v1` message types (so a request the API would not parse fails
here), and `google.longrunning.Operations/GetOperation` so the clients poll
their long-running operations to completion. Operations finish at the first
poll.

Faults: `inject(method, code, message)` aborts the next call of a method with a
gRPC status; `fail_next_operation(method, code, message)` makes the next
operation of a method end in that error.

What Vertex AI checks of a model's container, as its docs state: at upload, a
custom image must be in Artifact Registry in a repository in the model's region
(`REGION-docker.pkg.dev`), routes are paths, ports are valid TCP ports. At
deployment, when `objects` (the gs:// URIs in Cloud Storage) is given, the
server "starts" the container on the artifact: a prebuilt image wants
saved_model.pb at the artifact's top; TensorFlow Serving (`--model_base_path`)
wants numbered version directories under it, each with a saved_model.pb.
"""

from __future__ import annotations

import itertools
import re
import threading
from concurrent import futures
from typing import Any

import grpc
from google.cloud.aiplatform_v1.types import endpoint as endpoint_types
from google.cloud.aiplatform_v1.types import endpoint_service, model_service
from google.cloud.aiplatform_v1.types import model as model_types
from google.longrunning import operations_pb2
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from google.rpc import status_pb2


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class VertexServer:
    def __init__(self, parent: str) -> None:
        self.parent = parent
        self.models: dict[str, model_types.Model] = {}
        self.endpoints: dict[str, endpoint_types.Endpoint] = {}
        self.objects: set[str] | None = None  # gs:// URIs of the objects in Cloud Storage, when a test gives them
        self.calls: list[tuple[str, Any]] = []
        self.faults_injected = 0
        self._faults: dict[str, list[tuple[grpc.StatusCode, str]]] = {}
        self._operation_failures: dict[str, list[tuple[grpc.StatusCode, str]]] = {}
        self._operations: dict[str, operations_pb2.Operation] = {}
        self._ids = itertools.count(100)
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self._server.add_generic_rpc_handlers(
            (
                self._service("google.cloud.aiplatform.v1.ModelService", {
                    "UploadModel": (model_service.UploadModelRequest, self._upload),
                    "GetModel": (model_service.GetModelRequest, self._get_model),
                    "ListModels": (model_service.ListModelsRequest, self._list_models),
                    "DeleteModel": (model_service.DeleteModelRequest, self._delete_model),
                }),
                self._service("google.cloud.aiplatform.v1.EndpointService", {
                    "GetEndpoint": (endpoint_service.GetEndpointRequest, self._get_endpoint),
                    "DeployModel": (endpoint_service.DeployModelRequest, self._deploy),
                    "UndeployModel": (endpoint_service.UndeployModelRequest, self._undeploy),
                }),
                self._service("google.longrunning.Operations", {
                    "GetOperation": (operations_pb2.GetOperationRequest, self._get_operation),
                }),
            )
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    # --- lifecycle and set-up --------------------------------------------------------------

    def start(self) -> VertexServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add_endpoint(self, name: str) -> None:
        self.endpoints[name] = endpoint_types.Endpoint(name=name, display_name="bert_model_endpoint")

    def inject(self, method: str, code: grpc.StatusCode, message: str) -> None:
        self._faults.setdefault(method, []).append((code, message))

    def fail_next_operation(self, method: str, code: grpc.StatusCode, message: str) -> None:
        self._operation_failures.setdefault(method, []).append((code, message))

    def called(self, method: str) -> list[Any]:
        return [request for name, request in self.calls if name == method]

    # --- gRPC plumbing ---------------------------------------------------------------------

    def _service(self, service: str, methods: dict[str, tuple[Any, Any]]) -> grpc.GenericRpcHandler:
        handlers = {}
        for name, (request_type, behaviour) in methods.items():
            deserialize = request_type.FromString if hasattr(request_type, "FromString") else request_type.deserialize
            handlers[name] = grpc.unary_unary_rpc_method_handler(
                self._wrap(name, behaviour), request_deserializer=deserialize, response_serializer=_serialize
            )
        return grpc.method_handlers_generic_handler(service, handlers)

    def _wrap(self, name: str, behaviour: Any) -> Any:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:
                self.calls.append((name, request))
                queued = self._faults.get(name)
                if queued:
                    self.faults_injected += 1
                    code, message = queued.pop(0)
                    context.abort(code, message)
                try:
                    return behaviour(request)
                except _Abort as exc:
                    context.abort(exc.code, exc.message)

        return handle

    def _operation(self, method: str, response: Any) -> operations_pb2.Operation:
        """A pending operation; its outcome (`response`, or an injected error) shows at the first poll."""
        name = f"{self.parent}/operations/{next(self._ids)}"
        final = operations_pb2.Operation(name=name, done=True)
        failures = self._operation_failures.get(method)
        if failures:
            self.faults_injected += 1
            code, message = failures.pop(0)
            final.error.CopyFrom(status_pb2.Status(code=code.value[0], message=message))
        else:
            final.response.Pack(response if isinstance(response, Message) else type(response).pb(response))
        self._operations[name] = final
        return operations_pb2.Operation(name=name, done=False)

    def _get_operation(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
        if request.name not in self._operations:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Operation {request.name} not found")
        return self._operations[request.name]

    # --- Model Registry --------------------------------------------------------------------

    def _upload(self, request: model_service.UploadModelRequest) -> operations_pb2.Operation:
        if request.parent != self.parent:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown parent {request.parent}")
        if not request.model.artifact_uri or not request.model.container_spec.image_uri:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "artifact_uri and container_spec.image_uri are required")
        problem = self._container_problem(request.model.container_spec)
        if problem:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        failing = bool(self._operation_failures.get("UploadModel"))
        name = f"{self.parent}/models/{next(self._ids)}"
        if not failing:  # the server acts only when the operation succeeds
            model = model_types.Model(request.model)
            model.name, model.version_id = name, "1"
            self.models[name] = model
        return self._operation("UploadModel", model_service.UploadModelResponse(model=name))

    def _container_problem(self, spec: model_types.ModelContainerSpec) -> str | None:
        region = self.parent.split("/")[3]
        host, _, path = spec.image_uri.partition("/")
        prebuilt = path.startswith("vertex-ai/prediction/") and host in ("us-docker.pkg.dev", "europe-docker.pkg.dev", "asia-docker.pkg.dev")
        if not prebuilt and host != f"{region}-docker.pkg.dev":
            return f"Image {spec.image_uri} must be in an Artifact Registry repository in {region} ({region}-docker.pkg.dev/...)"
        for route in (spec.predict_route, spec.health_route):
            if route and not route.startswith("/"):
                return f"Route {route!r} must be a path starting with '/'"
        if any(not 0 < port.container_port < 65536 for port in spec.ports):
            return f"Invalid container ports: {[p.container_port for p in spec.ports]}"
        return None

    def serving_problem(self, model: model_types.Model) -> str | None:
        """Why the model's container would not serve its artifact, from the objects in Cloud Storage; None if it would."""
        if self.objects is None:
            return None
        base = model.artifact_uri.rstrip("/") + "/"
        under = {uri[len(base):] for uri in self.objects if uri.startswith(base)}
        spec = model.container_spec
        if not spec.args and not spec.command:  # a prebuilt image
            return None if "saved_model.pb" in under else f"Model directory {base} is expected to contain exactly one of: [saved_model.pb, saved_model.pbtxt]."
        if "--model_base_path=$(AIP_STORAGE_URI)" not in spec.args:
            return f"the container was not pointed at the artifact: args {list(spec.args)}"
        versions = {path.split("/", 1)[0] for path in under if path.endswith("/saved_model.pb") and path.count("/") == 1}
        if not any(v.isdigit() for v in versions):
            return f"No versions of servable {_flag(spec.args, 'model_name')} found under base path {base}"
        return None

    def _model(self, name: str) -> model_types.Model:
        if name not in self.models:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Model {name} not found")
        return self.models[name]

    def _get_model(self, request: model_service.GetModelRequest) -> model_types.Model:
        return self._model(request.name)

    def _list_models(self, request: model_service.ListModelsRequest) -> model_service.ListModelsResponse:
        wanted = dict(re.findall(r'labels\.([\w-]+)="([^"]*)"', request.filter))
        found = [m for m in self.models.values() if all(m.labels.get(k) == v for k, v in wanted.items())]
        return model_service.ListModelsResponse(models=found)

    def _delete_model(self, request: model_service.DeleteModelRequest) -> operations_pb2.Operation:
        self._model(request.name)
        del self.models[request.name]
        return self._operation("DeleteModel", empty_pb2.Empty())

    # --- endpoints ---------------------------------------------------------------------------

    def _endpoint(self, name: str) -> endpoint_types.Endpoint:
        if name not in self.endpoints:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Endpoint {name} not found")
        return self.endpoints[name]

    def _get_endpoint(self, request: endpoint_service.GetEndpointRequest) -> endpoint_types.Endpoint:
        return self._endpoint(request.name)

    def _deploy(self, request: endpoint_service.DeployModelRequest) -> operations_pb2.Operation:
        endpoint = self._endpoint(request.endpoint)
        spec = request.deployed_model
        unready = self.serving_problem(self._model(spec.model))
        if unready:
            self._operation_failures.setdefault("DeployModel", []).insert(
                0, (grpc.StatusCode.FAILED_PRECONDITION, f"Model server never became ready: {unready}")
            )
        resources = spec.dedicated_resources
        if not resources.machine_spec.machine_type or resources.min_replica_count < 1:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, "dedicated_resources need a machine type and min_replica_count >= 1")
        if sum(request.traffic_split.values()) != 100:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"traffic_split must sum to 100: {dict(request.traffic_split)}")
        deployed = endpoint_types.DeployedModel(spec)
        deployed.id = str(next(self._ids))
        deployed.model = f"{spec.model}@1"  # Vertex AI answers with the version it deployed
        if not self._operation_failures.get("DeployModel"):
            endpoint.deployed_models.append(deployed)
            split = {key: 0 for key in endpoint.traffic_split}
            split.update({(deployed.id if key == "0" else key): value for key, value in request.traffic_split.items()})
            endpoint.traffic_split = split
        return self._operation("DeployModel", endpoint_service.DeployModelResponse(deployed_model=deployed))

    def _undeploy(self, request: endpoint_service.UndeployModelRequest) -> operations_pb2.Operation:
        endpoint = self._endpoint(request.endpoint)
        kept = [d for d in endpoint.deployed_models if d.id != request.deployed_model_id]
        if len(kept) == len(endpoint.deployed_models):
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Deployed model {request.deployed_model_id} not found")
        endpoint.deployed_models = kept
        endpoint.traffic_split = {k: v for k, v in endpoint.traffic_split.items() if k != request.deployed_model_id}
        return self._operation("UndeployModel", endpoint_service.UndeployModelResponse())


def _flag(args: Any, name: str) -> str:
    return next((a.split("=", 1)[1] for a in args if a.startswith(f"--{name}=")), "?")


def _serialize(message: Any) -> bytes:
    return message.SerializeToString() if hasattr(message, "SerializeToString") else type(message).serialize(message)
