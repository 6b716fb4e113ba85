"""The policy pack: each rule against compliant and violating inputs, and our own stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from pulumi_policy import EnforcementLevel

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))

import bqml_policies as rules
import pack

GOOD_BUCKET = {"uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced", "location": "US"}
DEPLOYMENT = {"machine_type": "n1-standard-2", "min_replica_count": 1, "max_replica_count": 1, "endpoint": "e"}

CASES = [
    # (rule, type, props, config, expected violations)
    ("bucket-not-exposed", "gcp:storage/bucket:Bucket", GOOD_BUCKET, {}, []),
    ("bucket-not-exposed", "gcp:storage/bucket:Bucket", {**GOOD_BUCKET, "uniformBucketLevelAccess": False}, {},
     ["bucket must set uniformBucketLevelAccess: true (no per-object ACLs)"]),
    ("bucket-not-exposed", "gcp:storage/bucket:Bucket", {"uniformBucketLevelAccess": True, "publicAccessPrevention": "inherited"}, {},
     ["bucket must set publicAccessPrevention: 'enforced'"]),
    ("bucket-not-exposed", "gcp:storage/bucket:Bucket", {}, {}, [
        "bucket must set uniformBucketLevelAccess: true (no per-object ACLs)",
        "bucket must set publicAccessPrevention: 'enforced'",
    ]),
    ("no-authoritative-project-iam", "gcp:projects/iAMMember:IAMMember", {"role": "roles/aiplatform.user", "member": "serviceAccount:x"}, {}, []),
    ("no-authoritative-project-iam", "gcp:projects/iAMBinding:IAMBinding", {"role": "roles/viewer", "members": ["user:a@b.c"]}, {},
     ["project IAMBinding is authoritative and would remove grants made outside this stack: use gcp.projects.IAMMember"]),
    ("no-authoritative-project-iam", "gcp:projects/iAMPolicy:IAMPolicy", {"policyData": "{}"}, {},
     ["project IAMPolicy is authoritative and would remove grants made outside this stack: use gcp.projects.IAMMember"]),
    ("no-public-members", "gcp:projects/iAMMember:IAMMember", {"member": "serviceAccount:x@y.iam.gserviceaccount.com"}, {}, []),
    ("no-public-members", "gcp:storage/bucketIAMMember:BucketIAMMember", {"member": "allUsers", "role": "roles/storage.objectViewer"}, {},
     ["grants access to allUsers: nothing in this project is public"]),
    ("no-public-members", "gcp:bigquery/datasetIamBinding:DatasetIamBinding", {"members": ["user:a@b.c", "allAuthenticatedUsers"]}, {},
     ["grants access to allAuthenticatedUsers: nothing in this project is public"]),
    ("no-public-members", "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
     {"policyData": json.dumps({"bindings": [{"role": "roles/storage.objectViewer", "members": ["allUsers", "allAuthenticatedUsers"]}]})}, {},
     ["grants access to allAuthenticatedUsers, allUsers: nothing in this project is public"]),
    ("no-service-account-keys", "gcp:serviceaccount/account:Account", {"accountId": "ci"}, {}, []),
    ("no-service-account-keys", "gcp:serviceaccount/key:Key", {"serviceAccountId": "ci"}, {},
     ["service-account keys are long-lived secrets: use Workload Identity Federation or ADC instead"]),
    ("vertex-replica-cap", rules.DYNAMIC, DEPLOYMENT, {}, []),
    ("vertex-replica-cap", rules.DYNAMIC, {**DEPLOYMENT, "max_replica_count": 2}, {}, []),
    ("vertex-replica-cap", rules.DYNAMIC, {**DEPLOYMENT, "max_replica_count": 3}, {},
     ["Vertex AI deployment of up to 3 replicas exceeds the cap of 2 (policy config maxReplicas)"]),
    ("vertex-replica-cap", rules.DYNAMIC, {**DEPLOYMENT, "max_replica_count": 3}, {"maxReplicas": 4}, []),
    ("vertex-replica-cap", rules.DYNAMIC, {**DEPLOYMENT, "min_replica_count": 2, "max_replica_count": 2}, {"maxReplicas": 1},
     ["Vertex AI deployment of up to 2 replicas exceeds the cap of 1 (policy config maxReplicas)"]),
    ("vertex-replica-cap", rules.DYNAMIC, {"sql": "CREATE MODEL ...", "drop_sql": "DROP ..."}, {}, []),
    ("dataset-documented", "gcp:bigquery/dataset:Dataset", {"description": "d", "labels": {"app": "x"}}, {}, []),
    ("dataset-documented", "gcp:bigquery/dataset:Dataset", {"datasetId": "x"}, {}, ["dataset has no description", "dataset has no labels"]),
]


@pytest.mark.parametrize("rule, type_, props, config, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule(rule: str, type_: str, props: dict, config: dict, expected: list[str]) -> None:
    (found,) = [r for r in rules.RULES if r.name == rule]
    assert found.check(type_, props, config) == expected


def test_the_pack_wraps_every_rule_with_its_enforcement_level() -> None:
    policies = {p.name: p for p in pack.policies()}
    assert set(policies) == {r.name for r in rules.RULES}
    assert policies["dataset-documented"].enforcement_level == EnforcementLevel.ADVISORY
    mandatory = {"bucket-not-exposed", "no-authoritative-project-iam", "no-public-members", "no-service-account-keys", "vertex-replica-cap"}
    assert {n for n, p in policies.items() if p.enforcement_level == EnforcementLevel.MANDATORY} == mandatory
    assert policies["vertex-replica-cap"].config_schema.properties["maxReplicas"]["default"] == 2


def test_a_wrapped_policy_reports_through_the_engines_callback() -> None:
    (policy,) = [p for p in pack.policies() if p.name == "vertex-replica-cap"]
    reported: list[tuple[str, object]] = []
    args = SimpleNamespace(resource_type=rules.DYNAMIC, props={**DEPLOYMENT, "max_replica_count": 5}, get_config=lambda: {"maxReplicas": 3})
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    assert reported == [("Vertex AI deployment of up to 5 replicas exceeds the cap of 3 (policy config maxReplicas)", None)]


def test_policy_pack_manifest_uses_the_project_venv() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "policy" / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}


def test_our_own_stack_passes_every_policy(base_config: dict) -> None:
    from tests.pulumi_harness import run_program

    run = run_program({**base_config, "models": ["nnlm", "swivel", "bert"], "bert": {"maxReplicas": 2}})
    checked = 0
    for declared in run.declared.values():
        assert rules.violations(declared.type, declared.inputs) == {}, declared.name
        checked += 1
    deployment = run.named("bert-deployment")
    assert rules.violations(deployment.type, deployment.inputs, {"maxReplicas": 1})  # the cap does apply to it
    assert checked > 40
