"""Who a resource lets in, and with which roles, whatever the resource's shape.

Google spells a grant differently per resource: IAM members and bindings
(`role` with `member` or `members`), IAM policies (`policyData` JSON),
BigQuery dataset access entries (on `Dataset.accesses` or a `DatasetAccess`:
`role` with `iamMember`, `specialGroup`, `userByEmail`, ...), and Cloud
Storage ACLs (`entity`, `roleEntities` as "ROLE:entity", or a canned
`predefinedAcl`). `principals` and `roles` read them all.

They are separate because a value the engine cannot know yet during a preview
(a new service account's email) raises when read: a role check must not
depend on reading the member. Properties are the engine's camelCase inputs as
the policy SDK hands them over: mappings and sequences (its proxies), not
necessarily dict or list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

DATASET = "gcp:bigquery/dataset:Dataset"
DATASET_ACCESS = "gcp:bigquery/datasetAccess:DatasetAccess"
# Every Cloud Storage ACL resource in pulumi_gcp 10.
STORAGE_ACLS = (
    "gcp:storage/bucketACL:BucketACL",
    "gcp:storage/bucketAccessControl:BucketAccessControl",
    "gcp:storage/defaultObjectACL:DefaultObjectACL",
    "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
    "gcp:storage/objectACL:ObjectACL",
    "gcp:storage/objectAccessControl:ObjectAccessControl",
)
# Canned ACLs that open a bucket or its objects (Cloud Storage docs, "Access control lists", predefined ACLs).
PUBLIC_CANNED_ACLS = {"publicRead": "allUsers", "publicReadWrite": "allUsers", "authenticatedRead": "allAuthenticatedUsers"}
# The fields of a BigQuery access entry that name who gets in.
_ACCESS_PRINCIPALS = ("iamMember", "specialGroup", "userByEmail", "groupByEmail", "domain")


def principals(type_: str, props: Mapping[str, Any]) -> Iterator[str]:
    """Everyone a Google Cloud resource grants something to; nothing for other resources."""
    if not type_.startswith("gcp:"):
        return
    if type_ == DATASET:
        for entry in _mappings(props.get("accesses")):
            yield from _texts(entry.get(field) for field in _ACCESS_PRINCIPALS)
    elif type_ == DATASET_ACCESS:
        yield from _texts(props.get(field) for field in _ACCESS_PRINCIPALS)
    elif type_ in STORAGE_ACLS:
        yield from _texts([props.get("entity")])
        yield from (pair.partition(":")[2] for pair in _texts(_sequence(props.get("roleEntities"))))
        for field in ("predefinedAcl", "defaultAcl"):
            canned = props.get(field)
            if isinstance(canned, str) and canned in PUBLIC_CANNED_ACLS:
                yield PUBLIC_CANNED_ACLS[canned]
    else:
        yield from _texts([props.get("member"), *_sequence(props.get("members"))])
        for _role, members in _policy_bindings(props):
            yield from members


def roles(type_: str, props: Mapping[str, Any]) -> Iterator[str]:
    """Every role a Google Cloud resource grants; nothing for other resources."""
    if not type_.startswith("gcp:"):
        return
    if type_ == DATASET:
        yield from _texts(entry.get("role") for entry in _mappings(props.get("accesses")))
    elif type_ in (DATASET_ACCESS, *STORAGE_ACLS):
        yield from _texts([props.get("role")])
        yield from (pair.partition(":")[0] for pair in _texts(_sequence(props.get("roleEntities"))))
    else:
        yield from _texts([props.get("role")])
        yield from _texts(role for role, _members in _policy_bindings(props))


def _policy_bindings(props: Mapping[str, Any]) -> Iterator[tuple[Any, list[str]]]:
    policy = props.get("policyData")
    if not isinstance(policy, str):
        return
    try:
        bindings = json.loads(policy).get("bindings")
    except (ValueError, AttributeError):
        return  # not a policy document: the provider refuses it before anything is granted
    for binding in _mappings(bindings):
        yield binding.get("role"), list(_texts(_sequence(binding.get("members"))))


def _texts(values: Any) -> Iterator[str]:
    return (value for value in values if isinstance(value, str))


def _mappings(value: Any) -> Iterator[Mapping[str, Any]]:
    return (item for item in _sequence(value) if isinstance(item, Mapping))


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()
