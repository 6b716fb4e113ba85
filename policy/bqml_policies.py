"""The guard-rails, as plain functions of (resource type, properties) -> violations.

Kept free of the policy runtime so each rule is unit-tested directly;
__main__.py wraps them into a PulumiPolicy pack. Properties are the engine's
camelCase inputs. The project's SQL and Vertex resources are dynamic
resources, all of one type, so they are recognised by their properties.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
DEFAULT_MAX_REPLICAS = 2
DYNAMIC = "pulumi-python:dynamic:Resource"

Check = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]


def bucket_not_exposed(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ != "gcp:storage/bucket:Bucket":
        return []
    problems = []
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append("bucket must set uniformBucketLevelAccess: true (no per-object ACLs)")
    if props.get("publicAccessPrevention") != "enforced":
        problems.append("bucket must set publicAccessPrevention: 'enforced'")
    return problems


_AUTHORITATIVE = {
    "gcp:projects/iAMBinding:IAMBinding": "IAMBinding",
    "gcp:projects/iAMPolicy:IAMPolicy": "IAMPolicy",
}


def no_authoritative_project_iam(type_: str, _props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ in _AUTHORITATIVE:
        return [
            f"project {_AUTHORITATIVE[type_]} is authoritative and would remove grants made outside this stack: "
            "use gcp.projects.IAMMember"
        ]
    return []


def _members(props: Mapping[str, Any]) -> Iterator[str]:
    if isinstance(props.get("member"), str):
        yield props["member"]
    for member in props.get("members") or []:
        if isinstance(member, str):
            yield member
    policy = props.get("policyData")
    if isinstance(policy, str):
        try:
            bindings = json.loads(policy).get("bindings", [])
        except (ValueError, AttributeError):
            bindings = []
        for binding in bindings:
            yield from (m for m in binding.get("members", []) if isinstance(m, str))


def no_public_members(_type: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    public = sorted({m for m in _members(props) if m in PUBLIC_MEMBERS})
    return [f"grants access to {', '.join(public)}: nothing in this project is public"] if public else []


def no_service_account_keys(type_: str, _props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ == "gcp:serviceaccount/key:Key":
        return ["service-account keys are long-lived secrets: use Workload Identity Federation or ADC instead"]
    return []


def vertex_replicas_capped(type_: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if type_ != DYNAMIC or "machine_type" not in props or "max_replica_count" not in props:
        return []
    cap = int(config.get("maxReplicas", DEFAULT_MAX_REPLICAS))
    replicas = max(int(props.get("min_replica_count") or 0), int(props.get("max_replica_count") or 0))
    if replicas > cap:
        return [f"Vertex AI deployment of up to {replicas} replicas exceeds the cap of {cap} (policy config maxReplicas)"]
    return []


def dataset_documented(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ != "gcp:bigquery/dataset:Dataset":
        return []
    problems = []
    if not props.get("description"):
        problems.append("dataset has no description")
    if not props.get("labels"):
        problems.append("dataset has no labels")
    return problems


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    mandatory: bool
    config_schema: dict[str, dict[str, Any]] | None = None


RULES = (
    Rule("bucket-not-exposed", "Buckets use uniform bucket-level access and enforce public access prevention.", bucket_not_exposed, True),
    Rule("no-authoritative-project-iam", "No authoritative IAM bindings or policies on the project.", no_authoritative_project_iam, True),
    Rule("no-public-members", "No grant to allUsers or allAuthenticatedUsers, anywhere.", no_public_members, True),
    Rule("no-service-account-keys", "No service-account key resources.", no_service_account_keys, True),
    Rule(
        "vertex-replica-cap",
        "Vertex AI deployments stay at or below a replica cap.",
        vertex_replicas_capped,
        True,
        {"maxReplicas": {"type": "integer", "minimum": 1, "default": DEFAULT_MAX_REPLICAS}},
    ),
    Rule("dataset-documented", "Datasets have a description and labels.", dataset_documented, False),
)


def violations(type_: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """Every rule's violations for one resource (rules with none left out)."""
    found = {rule.name: rule.check(type_, props, config or {}) for rule in RULES}
    return {name: problems for name, problems in found.items() if problems}
