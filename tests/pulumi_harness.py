"""Runs the Pulumi program under the SDK's mocks and records what it declares.

Besides each resource's inputs, the monitor keeps its parent and the URNs it
depends on (explicit `depends_on` and those implied by its inputs), so tests
can assert the dependency graph, not only that the program ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

ROOT = Path(__file__).resolve().parent.parent
DYNAMIC = "pulumi-python:dynamic:Resource"
# What TensorFlow Serving's tag resolves to when the program pins it (vertex/image_pin.py).
SERVING_DIGEST = "sha256:" + "5e" * 32
FAKE_SERVICE_ACCOUNT = "bqcx-123456-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com"
# What a statement with a report query reads back (embedding_quality's rows).
REPORT_ROWS = (
    {"model": "nnlm", "dims": 50, "rows": 1000, "failed_rows": 0, "accuracy": 0.81, "precision": 0.8, "recall": 0.83,
     "f1_score": 0.815, "roc_auc": 0.89, "log_loss": 0.42, "measured_at": "2026-11-25T09:00:00+00:00"},
    {"model": "swivel", "dims": 20, "rows": 1000, "failed_rows": 0, "accuracy": 0.74, "precision": 0.73, "recall": 0.76,
     "f1_score": 0.745, "roc_auc": 0.81, "log_loss": 0.53, "measured_at": "2026-11-25T09:00:00+00:00"},
)


@dataclass
class Declared:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]
    parent: str
    dependencies: set[str] = field(default_factory=set)
    aliases: list[dict[str, Any]] = field(default_factory=list)  # alias specs: name, type, parent (None: the root)


class _Mocks(pulumi.runtime.Mocks):
    """Answers like the real providers would, for the outputs the program reads."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        if args.typ == "gcp:storage/bucket:Bucket":
            outputs["name"] = f"{args.name}-bucket-1a2b3c"
        if args.typ == "gcp:serviceaccount/account:Account":
            outputs["email"] = f"{args.inputs['accountId']}@{args.inputs['project']}.iam.gserviceaccount.com"
        if args.typ == "gcp:bigquery/connection:Connection":
            outputs["cloudResource"] = {"serviceAccountId": FAKE_SERVICE_ACCOUNT}
        # Dynamic resources: what their providers' create() would return.
        if args.typ == DYNAMIC and "artifact_uri" in args.inputs:
            outputs["model_name"] = f"projects/{args.inputs['project']}/locations/{args.inputs['region']}/models/4242"
        if args.typ == DYNAMIC and "machine_type" in args.inputs:
            outputs["deployed_model_id"] = str(770 + int(args.inputs["max_replica_count"]))  # a resize is a new deployment
        if args.typ == DYNAMIC and set(args.inputs) - {"__provider"} == {"image"}:  # an ImagePin (None inputs are not sent)
            outputs["digest"] = SERVING_DIGEST
            outputs["pinned"] = args.inputs["image"].rsplit(":", 1)[0] + "@" + SERVING_DIGEST
        if args.typ == DYNAMIC and args.inputs.get("report_sql"):
            outputs["report"] = [dict(row) for row in REPORT_ROWS]
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
        return {}, []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.declared: dict[str, Declared] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            dependencies = set(request.dependencies)
            for deps in request.propertyDependencies.values():
                dependencies.update(deps.urns)
            self.declared[response.urn] = Declared(
                urn=response.urn,
                type=request.type,
                name=request.name,
                inputs=rpc.deserialize_properties(request.object),
                parent=request.parent,
                dependencies=dependencies,
                aliases=[_alias(alias) for alias in request.aliases],
            )
        return response


def _alias(alias: Any) -> dict[str, Any]:
    if alias.urn:
        return {"urn": alias.urn}
    spec = alias.spec
    parent: Any = ... if not (spec.parentUrn or spec.noParent) else (None if spec.noParent else spec.parentUrn)
    return {"name": spec.name or None, "type": spec.type or None, "parent": parent}


@dataclass
class ProgramRun:
    declared: dict[str, Declared]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[Declared]:
        return [d for d in self.declared.values() if d.type == type_]

    def named(self, name: str) -> Declared:
        """The resource called `name`; where a component shares the name, its resource."""
        found = [d for d in self.declared.values() if d.name == name]
        if len(found) > 1:
            found = [d for d in found if not d.type.startswith("bqml-text-embeddings:")]
        (only,) = found
        return only

    def urn(self, name: str) -> str:
        return self.named(name).urn

    def depends_on(self, name: str, other: str) -> bool:
        """Does `name` depend on `other`, directly or through a parent component?"""
        target, seen, todo = self.urn(other), set(), [self.urn(name)]
        while todo:
            urn = todo.pop()
            if urn in seen or urn not in self.declared:
                continue
            seen.add(urn)
            deps = self.declared[urn].dependencies
            if target in deps:
                return True
            todo.extend(deps)
        return False

    def statements(self) -> dict[str, Declared]:
        """Dynamic SQL resources by name."""
        return {d.name: d for d in self.of_type(DYNAMIC) if "drop_sql" in d.inputs}


def to_config(values: dict[str, Any]) -> dict[str, str]:
    """Stack config as the engine hands it over: objects and lists as JSON."""
    out = {}
    for key, value in values.items():
        full = key if ":" in key else f"bqml-text-embeddings:{key}"
        out[full] = value if isinstance(value, str) else json.dumps(value)
    return out


def run_program(config: dict[str, Any], stack: str = "dev", entry_point: bool = False) -> ProgramRun:
    """Declares the program under mocks with `config`; exceptions propagate.

    With `entry_point`, runs __main__.py itself (as `pulumi up` does) instead of
    stack.program.run(); its exports are then not captured.
    """
    import runpy

    from stack import program

    def declare() -> Any:
        if entry_point:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
            return None
        return program.run()

    return run_declared(declare, to_config(config), stack=stack)


def run_declared(declare: Callable[[], Any], config: dict[str, str], stack: str = "dev", project: str = "bqml-text-embeddings") -> ProgramRun:
    """Runs `declare` under mocks with `config` (full keys, as the engine hands them over) and records what it
    declares; the outputs are what it returns, resolved."""
    mocks = _Mocks()
    monitor = _RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run() -> Any:
        outputs = declare()
        return None if outputs is None else pulumi.Output.from_input(outputs).apply(exported.update)

    run()
    return ProgramRun(monitor.declared, exported)
