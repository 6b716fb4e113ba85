"""Fake Google clients that record calls and inject faults.

Each fake takes `faults`: a mapping from method name to a list of exceptions
raised by successive calls before the method starts succeeding.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from google.api_core import exceptions as gexc


class _Faulty:
    def __init__(self, faults: dict[str, list[BaseException]] | None = None) -> None:
        self.faults = defaultdict(list, {k: list(v) for k, v in (faults or {}).items()})
        self.calls: list[tuple[str, Any]] = []

    def _enter(self, method: str, request: Any) -> None:
        self.calls.append((method, request))
        if self.faults[method]:
            raise self.faults[method].pop(0)

    def called(self, method: str) -> list[Any]:
        return [request for name, request in self.calls if name == method]


# --- BigQuery -----------------------------------------------------------------------------


class FakeBigQuery(_Faulty):
    """Enough of google.cloud.bigquery.Client for running statements.

    Faults under "query" are raised when the job is submitted; under "result",
    when it is awaited (how BigQuery reports a failed job). It does not retry:
    the real client's own retries are proven on the wire (test_wire_bigquery).
    """

    def __init__(self, faults: dict[str, list[BaseException]] | None = None) -> None:
        super().__init__(faults)
        self._ids = itertools.count(1)
        self.executed: list[str] = []
        self.retries: list[tuple[Any, Any]] = []  # (retry, job_retry) given to each query()

    def query(self, sql: str, job_config: Any = None, location: str | None = None, retry: Any = None, job_retry: Any = None) -> Any:
        self.retries.append((retry, job_retry))
        self._enter("query", {"sql": sql, "use_legacy_sql": job_config.use_legacy_sql, "location": location})
        job_id = f"job_{next(self._ids)}"
        fake = self

        class _Job:
            def __init__(self) -> None:
                self.job_id = job_id

            def result(self, retry: Any = None, job_retry: Any = None) -> list:
                fake._enter("result", job_id)
                fake.executed.append(sql)
                return []

        return _Job()


def bigquery_error(code: int, message: str, reason: str = "") -> gexc.GoogleAPICallError:
    errors = [{"reason": reason, "message": message}] if reason else []
    return gexc.from_http_status(code, message, errors=errors)


# --- Vertex AI ---------------------------------------------------------------------------


class _Operation:
    def __init__(self, owner: _Faulty, method: str, outcome: Any) -> None:
        self._owner, self._method, self._outcome = owner, method, outcome

    def result(self, timeout: float | None = None) -> Any:
        self._owner._enter(f"{self._method}.result", None)
        return self._outcome() if callable(self._outcome) else self._outcome


def container_spec(spec: dict) -> SimpleNamespace:
    """A ModelContainerSpec as the API returns it: every field present, unset ones empty."""
    return SimpleNamespace(
        image_uri=spec["image_uri"],
        command=list(spec.get("command", [])),
        args=list(spec.get("args", [])),
        ports=[SimpleNamespace(container_port=p["container_port"]) for p in spec.get("ports", [])],
        predict_route=spec.get("predict_route", ""),
        health_route=spec.get("health_route", ""),
    )


class FakeModelService(_Faulty):
    def __init__(self, faults: dict[str, list[BaseException]] | None = None) -> None:
        super().__init__(faults)
        self.models: dict[str, SimpleNamespace] = {}
        self._ids = itertools.count(100)

    def add(self, parent: str, **fields: Any) -> str:
        name = f"{parent}/models/{next(self._ids)}"
        self.models[name] = SimpleNamespace(name=name, **fields)
        return name

    def list_models(self, request: dict) -> list:
        self._enter("list_models", request)
        wanted = dict(re.findall(r'labels\.([\w-]+)="([^"]*)"', request.get("filter", "")))
        return [
            m for name, m in self.models.items()
            if name.startswith(request["parent"] + "/") and all(m.labels.get(k) == v for k, v in wanted.items())
        ]

    def get_model(self, request: dict) -> SimpleNamespace:
        self._enter("get_model", request)
        if request["name"] not in self.models:
            raise gexc.NotFound(f"Model {request['name']} not found")
        return self.models[request["name"]]

    def upload_model(self, request: dict) -> _Operation:
        self._enter("upload_model", request)
        model = request["model"]

        def finish() -> SimpleNamespace:  # the server acts when the operation completes
            name = self.add(request["parent"], display_name=model["display_name"], artifact_uri=model["artifact_uri"],
                            labels=dict(model["labels"]), container_spec=container_spec(model["container_spec"]))
            return SimpleNamespace(model=name)

        return _Operation(self, "upload_model", finish)

    def delete_model(self, request: dict) -> _Operation:
        self._enter("delete_model", request)
        if request["name"] not in self.models:
            raise gexc.NotFound(f"Model {request['name']} not found")
        del self.models[request["name"]]
        return _Operation(self, "delete_model", None)


def _deployed(deployed_id: str, model: str, machine_type: str, low: int, high: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=deployed_id,
        model=model,
        dedicated_resources=SimpleNamespace(
            machine_spec=SimpleNamespace(machine_type=machine_type), min_replica_count=low, max_replica_count=high
        ),
    )


class FakeEndpointService(_Faulty):
    def __init__(self, faults: dict[str, list[BaseException]] | None = None) -> None:
        super().__init__(faults)
        self.endpoints: dict[str, SimpleNamespace] = {}
        self._ids = itertools.count(900)

    def add_endpoint(self, name: str) -> None:
        self.endpoints[name] = SimpleNamespace(name=name, deployed_models=[], traffic_split={})

    def add_deployment(self, endpoint: str, model: str, machine_type: str, low: int, high: int, traffic: int | None) -> str:
        deployed_id = str(next(self._ids))
        ep = self.endpoints[endpoint]
        ep.deployed_models.append(_deployed(deployed_id, model, machine_type, low, high))
        if traffic is not None:
            ep.traffic_split[deployed_id] = traffic
        return deployed_id

    def _endpoint(self, name: str) -> SimpleNamespace:
        if name not in self.endpoints:
            raise gexc.NotFound(f"Endpoint {name} not found")
        return self.endpoints[name]

    def get_endpoint(self, request: dict) -> SimpleNamespace:
        self._enter("get_endpoint", request)
        return self._endpoint(request["name"])

    def deploy_model(self, request: dict) -> _Operation:
        self._enter("deploy_model", request)
        ep = self._endpoint(request["endpoint"])
        spec = request["deployed_model"]
        res = spec["dedicated_resources"]

        def finish() -> SimpleNamespace:
            deployed_id = self.add_deployment(
                request["endpoint"], spec["model"], res["machine_spec"]["machine_type"],
                res["min_replica_count"], res["max_replica_count"], traffic=None,
            )
            ep.traffic_split = {k: 0 for k in ep.traffic_split}
            ep.traffic_split[deployed_id] = request["traffic_split"]["0"]
            return SimpleNamespace(deployed_model=SimpleNamespace(id=deployed_id))

        return _Operation(self, "deploy_model", finish)

    def undeploy_model(self, request: dict) -> _Operation:
        self._enter("undeploy_model", request)
        ep = self._endpoint(request["endpoint"])
        before = len(ep.deployed_models)
        ep.deployed_models = [d for d in ep.deployed_models if d.id != request["deployed_model_id"]]
        if len(ep.deployed_models) == before:
            raise gexc.NotFound(f"Deployed model {request['deployed_model_id']} not found")
        ep.traffic_split.pop(request["deployed_model_id"], None)
        return _Operation(self, "undeploy_model", None)
