"""The policy pack, driven the way the Pulumi CLI drives it.

The pack runs as the CLI starts a Python policy pack (`python -u -m
pulumi.policy ENGINE DIR`, in the pack's directory: pulumi-language-python's
RunPlugin), prints its port, and answers the Analyzer gRPC service: each
resource's inputs arrive as the SDK serializes them for the engine (numbers as
floats, assets as signatures, values unknown in a preview as sentinels), and
each violation comes back as a diagnostic with its enforcement level.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import analyzer_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policy"
DYNAMIC = "pulumi-python:dynamic:Resource"
MANDATORY = {
    "bucket-not-exposed",
    "no-authoritative-iam",
    "no-public-members",
    "no-broad-roles",
    "no-keys",
    "vertex-replica-cap",
}
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's sentinel for a string not known in a preview

GOOD_BUCKET = {"uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced", "location": "US"}
DEPLOYMENT = {"machine_type": "n1-standard-2", "min_replica_count": 1, "max_replica_count": 1, "endpoint": "e"}
SA = "serviceAccount:x@p.iam.gserviceaccount.com"


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    message: str  # what the rule reported, without the policy's description the SDK puts first
    mandatory: bool


Analyze = Callable[..., list[Diagnostic]]


@pytest.fixture(scope="module")
def analyze() -> Iterator[Analyze]:
    """The pack's own process, as the CLI starts it; calls Configure then Analyze for one resource."""
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY)],
        cwd=POLICY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip() if process.stdout else ""
        assert port.isdigit(), (port, process.stderr.read() if process.stderr else "")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = analyzer_pb2_grpc.AnalyzerStub(channel)

        # Like the CLI, Configure names every policy with its enforcement level and its config.
        levels = {p.name: p.enforcementLevel for p in stub.GetAnalyzerInfo(empty_pb2.Empty()).policies}

        def call(type_: str, props: dict[str, Any], config: dict[str, dict[str, Any]] | None = None) -> list[Diagnostic]:
            stub.Configure(
                proto.ConfigureAnalyzerRequest(
                    policyConfig={
                        name: proto.PolicyConfig(enforcementLevel=level, properties=_struct((config or {}).get(name, {})))
                        for name, level in levels.items()
                    }
                )
            )
            response = stub.Analyze(
                proto.AnalyzeRequest(
                    type=type_, properties=_serialized(props), urn=f"urn:pulumi:dev::bqml-text-embeddings::{type_}::r", name="r"
                )
            )
            return [
                Diagnostic(d.policyName, d.message.split("\n", 1)[-1], d.enforcementLevel == proto.MANDATORY)
                for d in response.diagnostics
            ]

        call.stub = stub  # type: ignore[attr-defined]
        yield call
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def _serialized(props: dict[str, Any]) -> struct_pb2.Struct:
    """Resource inputs as the Pulumi SDK sends them to the engine (and the engine on to the pack)."""
    loop = asyncio.new_event_loop()  # not asyncio.run: that unsets the loop the Pulumi mocks run on
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def reported(diagnostics: list[Diagnostic], policy: str) -> list[str]:
    found = [d for d in diagnostics if d.policy == policy]
    assert all(d.mandatory == (policy in MANDATORY) for d in found)
    return [d.message for d in found]


def test_the_pack_declares_each_rule_with_its_enforcement_level_and_config(analyze: Analyze) -> None:
    info = analyze.stub.GetAnalyzerInfo(empty_pb2.Empty())  # type: ignore[attr-defined]
    assert info.name == "bqml-text-embeddings-guardrails"
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert {name for name, level in levels.items() if level == proto.MANDATORY} == MANDATORY
    assert {name for name, level in levels.items() if level == proto.ADVISORY} == {"dataset-documented"}
    (cap,) = [p for p in info.policies if p.name == "vertex-replica-cap"]
    assert cap.configSchema.properties["maxReplicas"]["default"] == 2


# --- buckets and their ACLs ----------------------------------------------------------------------

ACL_EXPOSED = [
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "roleEntities": ["OWNER:project-owners-1", "READER:allUsers"]}, ["allUsers"]),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "predefinedAcl": "publicRead"}, ["allUsers"]),
    ("gcp:storage/bucketACL:BucketACL", {"bucket": "b", "defaultAcl": "publicReadWrite"}, ["allUsers"]),
    ("gcp:storage/bucketAccessControl:BucketAccessControl", {"bucket": "b", "role": "READER", "entity": "allAuthenticatedUsers"},
     ["allAuthenticatedUsers"]),
    ("gcp:storage/defaultObjectACL:DefaultObjectACL", {"bucket": "b", "roleEntities": ["READER:allAuthenticatedUsers"]},
     ["allAuthenticatedUsers"]),
    ("gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl", {"bucket": "b", "role": "READER", "entity": "allUsers"},
     ["allUsers"]),
    ("gcp:storage/objectACL:ObjectACL", {"bucket": "b", "object": "o", "predefinedAcl": "authenticatedRead"}, ["allAuthenticatedUsers"]),
    ("gcp:storage/objectAccessControl:ObjectAccessControl", {"bucket": "b", "object": "o", "role": "READER", "entity": "allUsers"},
     ["allUsers"]),
]


@pytest.mark.parametrize("type_, props, public", ACL_EXPOSED, ids=[f"{c[0].rsplit(':', 1)[1]}-{i}" for i, c in enumerate(ACL_EXPOSED)])
def test_a_public_storage_acl_is_refused_twice(analyze: Analyze, type_: str, props: dict, public: list[str]) -> None:
    found = analyze(type_, props)
    assert reported(found, "no-public-members") == [f"grants access to {', '.join(public)}: nothing in this project is public"]
    short = type_.rsplit(":", 1)[1]
    assert reported(found, "bucket-not-exposed") == [
        f"{short}: ACLs grant access outside IAM; the stack's buckets use uniform bucket-level access"
    ]


def test_any_storage_acl_is_refused_even_to_a_named_user(analyze: Analyze) -> None:
    found = analyze("gcp:storage/bucketAccessControl:BucketAccessControl", {"bucket": "b", "role": "READER", "entity": "user-a@b.c"})
    assert reported(found, "no-public-members") == []
    assert reported(found, "bucket-not-exposed")


@pytest.mark.parametrize(
    "props, expected",
    [
        (GOOD_BUCKET, []),
        ({**GOOD_BUCKET, "uniformBucketLevelAccess": False}, ["bucket must set uniformBucketLevelAccess: true (no per-object ACLs)"]),
        ({"uniformBucketLevelAccess": True, "publicAccessPrevention": "inherited"}, ["bucket must set publicAccessPrevention: 'enforced'"]),
        ({}, ["bucket must set uniformBucketLevelAccess: true (no per-object ACLs)", "bucket must set publicAccessPrevention: 'enforced'"]),
    ],
)
def test_a_bucket_needs_uniform_access_and_enforced_public_access_prevention(analyze: Analyze, props: dict, expected: list[str]) -> None:
    assert reported(analyze("gcp:storage/bucket:Bucket", props), "bucket-not-exposed") == expected


# --- public principals anywhere -----------------------------------------------------------------

PUBLIC = [
    ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "b", "member": "allUsers", "role": "roles/storage.objectViewer"}),
    ("gcp:bigquery/datasetIamMember:DatasetIamMember", {"datasetId": "d", "member": "allAuthenticatedUsers", "role": "roles/bigquery.dataViewer"}),
    ("gcp:bigquery/iamMember:IamMember", {"datasetId": "d", "tableId": "t", "member": "allUsers", "role": "roles/bigquery.dataViewer"}),
    ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "READER", "iamMember": "allUsers"}),
    ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "READER", "specialGroup": "allAuthenticatedUsers"}),
    ("gcp:bigquery/dataset:Dataset", {"datasetId": "d", "accesses": [{"role": "OWNER", "userByEmail": "a@b.c"},
                                                                      {"role": "READER", "specialGroup": "allAuthenticatedUsers"}]}),
    ("gcp:bigquery/dataset:Dataset", {"datasetId": "d", "accesses": [{"role": "roles/bigquery.dataViewer", "iamMember": "allUsers"}]}),
    ("gcp:serviceaccount/iAMMember:IAMMember", {"serviceAccountId": "s", "member": "allAuthenticatedUsers", "role": "roles/iam.serviceAccountUser"}),
    ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
     {"bucket": "b", "policyData": '{"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers"]}]}'}),
]


@pytest.mark.parametrize("type_, props", PUBLIC, ids=[f"{c[0].rsplit(':', 1)[1]}-{i}" for i, c in enumerate(PUBLIC)])
def test_a_grant_to_the_public_is_refused_whatever_shape_it_has(analyze: Analyze, type_: str, props: dict) -> None:
    (message,) = reported(analyze(type_, props), "no-public-members")
    assert message.startswith("grants access to all") and message.endswith(": nothing in this project is public")


def test_private_grants_pass(analyze: Analyze) -> None:
    for type_, props in [
        ("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": SA, "role": "roles/aiplatform.user"}),
        ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "READER", "userByEmail": "a@b.c"}),
        ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "READER", "specialGroup": "projectReaders"}),
    ]:
        assert analyze(type_, props) == [], type_


# --- authoritative IAM ----------------------------------------------------------------------------

AUTHORITATIVE = [
    ("gcp:projects/iAMBinding:IAMBinding", {"project": "p", "role": "roles/viewer", "members": ["user:a@b.c"]}),
    ("gcp:projects/iAMPolicy:IAMPolicy", {"project": "p", "policyData": "{}"}),
    ("gcp:organizations/iAMBinding:IAMBinding", {"orgId": "1", "role": "roles/viewer", "members": ["user:a@b.c"]}),
    ("gcp:organizations/iAMPolicy:IAMPolicy", {"orgId": "1", "policyData": "{}"}),
    ("gcp:folder/iAMBinding:IAMBinding", {"folder": "folders/1", "role": "roles/viewer", "members": ["user:a@b.c"]}),
    ("gcp:folder/iAMPolicy:IAMPolicy", {"folder": "folders/1", "policyData": "{}"}),
    ("gcp:bigquery/datasetIamBinding:DatasetIamBinding", {"datasetId": "d", "role": "roles/bigquery.dataViewer", "members": [SA]}),
    ("gcp:bigquery/datasetIamPolicy:DatasetIamPolicy", {"datasetId": "d", "policyData": "{}"}),
    ("gcp:bigquery/iamBinding:IamBinding", {"datasetId": "d", "tableId": "t", "role": "roles/bigquery.dataViewer", "members": [SA]}),
    ("gcp:bigquery/iamPolicy:IamPolicy", {"datasetId": "d", "tableId": "t", "policyData": "{}"}),
    ("gcp:storage/bucketIAMBinding:BucketIAMBinding", {"bucket": "b", "role": "roles/storage.objectViewer", "members": [SA]}),
    ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy", {"bucket": "b", "policyData": "{}"}),
    ("gcp:serviceaccount/iAMBinding:IAMBinding", {"serviceAccountId": "s", "role": "roles/iam.serviceAccountUser", "members": [SA]}),
    ("gcp:serviceaccount/iAMPolicy:IAMPolicy", {"serviceAccountId": "s", "policyData": "{}"}),
    ("gcp:bigquery/connectionIamPolicy:ConnectionIamPolicy", {"connectionId": "c", "policyData": "{}"}),
]


@pytest.mark.parametrize("type_, props", AUTHORITATIVE, ids=[c[0].split(":")[1] for c in AUTHORITATIVE])
def test_authoritative_iam_is_refused_on_every_resource(analyze: Analyze, type_: str, props: dict) -> None:
    short = type_.rsplit(":", 1)[1]
    assert reported(analyze(type_, props), "no-authoritative-iam") == [
        f"{short} is authoritative and would remove grants made outside this stack: use the matching IAM member resource"
    ]


def test_a_datasets_access_list_is_authoritative_and_its_members_are_not(analyze: Analyze) -> None:
    accesses = {"datasetId": "d", "accesses": [{"role": "READER", "userByEmail": "a@b.c"}]}
    assert reported(analyze("gcp:bigquery/dataset:Dataset", accesses), "no-authoritative-iam") == [
        "dataset accesses replace the dataset's whole access list: use gcp.bigquery.DatasetIamMember"
    ]
    for type_, props in [
        ("gcp:bigquery/dataset:Dataset", {"datasetId": "d", "description": "x", "labels": {"a": "b"}}),
        ("gcp:bigquery/datasetIamMember:DatasetIamMember", {"datasetId": "d", "role": "roles/bigquery.dataViewer", "member": SA}),
        ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "READER", "userByEmail": "a@b.c"}),
    ]:
        assert reported(analyze(type_, props), "no-authoritative-iam") == [], type_


# --- owner, editor and admin roles ---------------------------------------------------------------

BROAD = [
    ("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": SA, "role": "roles/owner"}, "roles/owner"),
    ("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": SA, "role": "roles/editor"}, "roles/editor"),
    ("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": SA, "role": "roles/resourcemanager.projectIamAdmin"},
     "roles/resourcemanager.projectIamAdmin"),
    ("gcp:organizations/iAMMember:IAMMember", {"orgId": "1", "member": SA, "role": "roles/resourcemanager.organizationAdmin"},
     "roles/resourcemanager.organizationAdmin"),
    ("gcp:bigquery/datasetIamMember:DatasetIamMember", {"datasetId": "d", "member": SA, "role": "roles/bigquery.admin"}, "roles/bigquery.admin"),
    ("gcp:bigquery/iamMember:IamMember", {"datasetId": "d", "tableId": "t", "member": SA, "role": "roles/bigquery.dataOwner"},
     "roles/bigquery.dataOwner"),
    ("gcp:bigquery/connectionIamMember:ConnectionIamMember", {"connectionId": "c", "member": SA, "role": "roles/bigquery.connectionAdmin"},
     "roles/bigquery.connectionAdmin"),
    ("gcp:storage/bucketIAMMember:BucketIAMMember", {"bucket": "b", "member": SA, "role": "roles/storage.admin"}, "roles/storage.admin"),
    ("gcp:serviceaccount/iAMMember:IAMMember", {"serviceAccountId": "s", "member": SA, "role": "roles/iam.serviceAccountAdmin"},
     "roles/iam.serviceAccountAdmin"),
    ("gcp:bigquery/datasetAccess:DatasetAccess", {"datasetId": "d", "role": "OWNER", "userByEmail": "a@b.c"}, "OWNER"),
    ("gcp:bigquery/dataset:Dataset", {"datasetId": "d", "accesses": [{"role": "roles/editor", "userByEmail": "a@b.c"}]}, "roles/editor"),
    ("gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
     {"bucket": "b", "policyData": '{"bindings": [{"role": "roles/storage.admin", "members": ["user:a@b.c"]}]}'}, "roles/storage.admin"),
]


@pytest.mark.parametrize("type_, props, role", BROAD, ids=[f"{c[2]}-{i}" for i, c in enumerate(BROAD)])
def test_owner_editor_and_admin_roles_are_refused_through_any_grant(analyze: Analyze, type_: str, props: dict, role: str) -> None:
    assert reported(analyze(type_, props), "no-broad-roles") == [
        f"grants {role}: the stack grants no owner, editor, data owner or admin role"
    ]


@pytest.mark.parametrize(
    "role",
    ["roles/aiplatform.user", "roles/bigquery.jobUser", "roles/bigquery.dataViewer", "roles/bigquery.dataEditor",
     "roles/bigquery.connectionUser", "roles/viewer", "roles/compute.osAdminLogin", "READER", "WRITER"],
)
def test_the_roles_a_stack_grants_pass(analyze: Analyze, role: str) -> None:
    assert reported(analyze("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": SA, "role": role}), "no-broad-roles") == []


def test_a_role_is_judged_in_a_preview_even_when_the_member_is_not_known_yet(analyze: Analyze) -> None:
    found = analyze("gcp:projects/iAMMember:IAMMember", {"project": "p", "member": UNKNOWN_STRING, "role": "roles/owner"})
    assert reported(found, "no-broad-roles") == ["grants roles/owner: the stack grants no owner, editor, data owner or admin role"]
    # The member is judged when it is known: in the preview the SDK says so, as advice.
    (member,) = [d for d in found if d.policy == "no-public-members"]
    assert not member.mandatory and "can't be known during preview" in member.message


# --- keys ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_, props, what",
    [
        ("gcp:serviceaccount/key:Key", {"serviceAccountId": "ci"}, "a service-account key"),
        ("gcp:storage/hmacKey:HmacKey", {"serviceAccountEmail": "x@p.iam.gserviceaccount.com"}, "an HMAC key"),
        ("gcp:projects/apiKey:ApiKey", {"name": "k", "project": "p"}, "an API key"),
    ],
)
def test_long_lived_keys_are_refused(analyze: Analyze, type_: str, props: dict, what: str) -> None:
    assert reported(analyze(type_, props), "no-keys") == [
        f"{what} is a long-lived secret: use Workload Identity Federation or ADC instead"
    ]


def test_a_service_account_itself_is_not_a_key(analyze: Analyze) -> None:
    assert analyze("gcp:serviceaccount/account:Account", {"accountId": "ci", "project": "p"}) == []


# --- Vertex AI replicas ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "props, config, expected",
    [
        (DEPLOYMENT, {}, []),
        ({**DEPLOYMENT, "max_replica_count": 2}, {}, []),
        ({**DEPLOYMENT, "max_replica_count": 3}, {}, ["Vertex AI deployment of up to 3 replicas exceeds the cap of 2 (policy config maxReplicas)"]),
        ({**DEPLOYMENT, "max_replica_count": 3}, {"maxReplicas": 4}, []),
        ({**DEPLOYMENT, "min_replica_count": 2, "max_replica_count": 2}, {"maxReplicas": 1},
         ["Vertex AI deployment of up to 2 replicas exceeds the cap of 1 (policy config maxReplicas)"]),
        ({**DEPLOYMENT, "max_replica_count": 1_000_000}, {},
         ["Vertex AI deployment of up to 1000000 replicas exceeds the cap of 2 (policy config maxReplicas)"]),
        ({**DEPLOYMENT, "max_replica_count": "lots"}, {}, ["max_replica_count must be a whole number, got 'lots'"]),
        ({**DEPLOYMENT, "max_replica_count": 2.5}, {}, ["max_replica_count must be a whole number, got 2.5"]),
        ({**DEPLOYMENT, "min_replica_count": -1}, {}, ["min_replica_count must be a whole number, got -1.0"]),
        ({**DEPLOYMENT, "max_replica_count": True}, {}, ["max_replica_count must be a whole number, got True"]),
        ({"sql": "CREATE MODEL ...", "drop_sql": "DROP ..."}, {}, []),
    ],
)
def test_vertex_replicas_stay_under_the_cap_and_a_bad_count_is_a_violation_not_a_crash(
    analyze: Analyze, props: dict, config: dict, expected: list[str]
) -> None:
    found = analyze(DYNAMIC, props, {"vertex-replica-cap": config} if config else None)
    assert reported(found, "vertex-replica-cap") == expected
    assert [d for d in found if d.policy != "vertex-replica-cap"] == []  # no rule crashed on it


def test_an_advisory_rule_only_advises(analyze: Analyze) -> None:
    found = analyze("gcp:bigquery/dataset:Dataset", {"datasetId": "x"})
    assert reported(found, "dataset-documented") == ["dataset has no description", "dataset has no labels"]
    assert not any(d.mandatory for d in found)


def test_policy_pack_manifest_uses_the_project_venv() -> None:
    import yaml

    manifest = yaml.safe_load((POLICY / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}


def test_our_own_stack_passes_every_policy_and_the_cap_applies_to_it(analyze: Analyze, base_config: dict) -> None:
    from tests.pulumi_harness import run_program

    corpora = {"tickets": {"table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body", "models": ["nnlm", "textembedding"], "schedule": "every 24 hours"}}
    run = run_program(
        {**base_config, "models": ["nnlm", "swivel", "bert", "textembedding"], "bert": {"maxReplicas": 2}, "corpora": corpora}
    )
    types = set()
    for declared in run.declared.values():
        assert analyze(declared.type, declared.inputs) == [], declared.name
        types.add(declared.type)
    # Every kind of grant and resource the stack makes went through the pack.
    assert {
        "gcp:projects/iAMMember:IAMMember",
        "gcp:bigquery/datasetIamMember:DatasetIamMember",
        "gcp:bigquery/iamMember:IamMember",
        "gcp:bigquery/connectionIamMember:ConnectionIamMember",
        "gcp:storage/bucket:Bucket",
        "gcp:serviceaccount/account:Account",
        "gcp:bigquery/dataset:Dataset",
    } <= types
    deployment = run.named("bert-deployment")
    assert reported(analyze(deployment.type, deployment.inputs, {"vertex-replica-cap": {"maxReplicas": 1}}), "vertex-replica-cap") == [
        "Vertex AI deployment of up to 2 replicas exceeds the cap of 1 (policy config maxReplicas)"
    ]
