"""The guard-rails, as plain functions of (resource type, properties, config) -> violations.

Kept free of the policy runtime so each rule reads on its own; pack.py wraps
them into a PulumiPolicy pack, and the tests drive that pack the way the
engine does. Properties are the engine's camelCase inputs. The project's SQL
and Vertex resources are dynamic resources, all of one type, so they are
recognised by their properties.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bqml_grants import DATASET, STORAGE_ACLS, principals, roles

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
DEFAULT_MAX_REPLICAS = 2
DYNAMIC = "pulumi-python:dynamic:Resource"
BUCKET = "gcp:storage/bucket:Bucket"
# Long-lived secrets; Workload Identity Federation and ADC make each unnecessary.
KEYS = {
    "gcp:serviceaccount/key:Key": "a service-account key",
    "gcp:storage/hmacKey:HmacKey": "an HMAC key",
    "gcp:projects/apiKey:ApiKey": "an API key",
}
# Roles that let their holder change who has access (and basic roles, which hold thousands of permissions).
# BigQuery's legacy dataset role OWNER is roles/bigquery.dataOwner on that dataset.
_BROAD_ROLES = ("roles/owner", "roles/editor", "roles/bigquery.dataOwner", "OWNER")
_ADMIN_ROLE = re.compile(r"roles/[A-Za-z0-9_.]+(?:\.admin|Admin)")
# IAM bindings and policies, for every resource type pulumi_gcp has them for (IAMBinding, IamPolicy, ...).
_AUTHORITATIVE = re.compile(r"(?i).*iam(?:binding|policy)")

Check = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]


def bucket_not_exposed(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ in STORAGE_ACLS:
        return [f"{_short(type_)}: ACLs grant access outside IAM; the stack's buckets use uniform bucket-level access"]
    if type_ != BUCKET:
        return []
    problems = []
    if props.get("uniformBucketLevelAccess") is not True:
        problems.append("bucket must set uniformBucketLevelAccess: true (no per-object ACLs)")
    if props.get("publicAccessPrevention") != "enforced":
        problems.append("bucket must set publicAccessPrevention: 'enforced'")
    return problems


def no_authoritative_iam(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_.startswith("gcp:") and _AUTHORITATIVE.fullmatch(type_.rsplit(":", 1)[-1]):
        return [
            f"{_short(type_)} is authoritative and would remove grants made outside this stack: "
            "use the matching IAM member resource"
        ]
    if type_ == DATASET and props.get("accesses"):
        return ["dataset accesses replace the dataset's whole access list: use gcp.bigquery.DatasetIamMember"]
    return []


def no_public_members(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    public = sorted({p for p in principals(type_, props) if p in PUBLIC_MEMBERS})
    return [f"grants access to {', '.join(public)}: nothing in this project is public"] if public else []


def no_broad_roles(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    broad = sorted({role for role in roles(type_, props) if is_broad_role(role)})
    return [f"grants {role}: the stack grants no owner, editor, data owner or admin role" for role in broad]


def is_broad_role(role: str) -> bool:
    return role in _BROAD_ROLES or _ADMIN_ROLE.fullmatch(role) is not None


def no_keys(type_: str, _props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ in KEYS:
        return [f"{KEYS[type_]} is a long-lived secret: use Workload Identity Federation or ADC instead"]
    return []


def vertex_replicas_capped(type_: str, props: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    if type_ != DYNAMIC or "machine_type" not in props or "max_replica_count" not in props:
        return []
    cap = _count(config.get("maxReplicas", DEFAULT_MAX_REPLICAS))
    if cap is None:
        return [f"policy config maxReplicas must be a whole number, got {config.get('maxReplicas')!r}"]
    counts = {key: _count(props.get(key) or 0) for key in ("min_replica_count", "max_replica_count")}
    bad = [f"{key} must be a whole number, got {props.get(key)!r}" for key, count in counts.items() if count is None]
    if bad:
        return bad
    replicas = max(count for count in counts.values() if count is not None)
    if replicas > cap:
        return [f"Vertex AI deployment of up to {replicas} replicas exceeds the cap of {cap} (policy config maxReplicas)"]
    return []


def _count(value: Any) -> int | None:
    """A non-negative whole number; the engine hands numbers over as floats (2.0), config may give strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else None
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        return int(value)
    return None


def dataset_documented(type_: str, props: Mapping[str, Any], _config: Mapping[str, Any]) -> list[str]:
    if type_ != DATASET:
        return []
    problems = []
    if not props.get("description"):
        problems.append("dataset has no description")
    if not props.get("labels"):
        problems.append("dataset has no labels")
    return problems


def _short(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    mandatory: bool
    config_schema: dict[str, dict[str, Any]] | None = None


RULES = (
    Rule(
        "bucket-not-exposed",
        "Buckets use uniform bucket-level access and enforce public access prevention; no storage ACLs.",
        bucket_not_exposed,
        True,
    ),
    Rule(
        "no-authoritative-iam",
        "No authoritative IAM (bindings, policies, dataset access lists) on any resource.",
        no_authoritative_iam,
        True,
    ),
    Rule("no-public-members", "No grant to allUsers or allAuthenticatedUsers, anywhere.", no_public_members, True),
    Rule("no-broad-roles", "No owner, editor, data owner or admin role granted by the stack.", no_broad_roles, True),
    Rule("no-keys", "No service-account keys, HMAC keys or API keys.", no_keys, True),
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
