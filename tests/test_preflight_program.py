"""The preflight's lists keep in step with the program: the APIs it enables and the resources it declares.

The program runs under the SDK's mocks (tests/pulumi_harness.py); for each configuration the
APIs the preflight expects must be exactly the `gcp.projects.Service` resources declared, and
every resource declared must have a row in `permissions.NEEDS` that applies to that stack, so a
new resource cannot reach `pulumi up` without its permissions being listed and checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stack.preflight import apis, permissions, stack_config
from tests.pulumi_harness import DYNAMIC, Declared, ProgramRun, run_program
from tests.wire.preflight_world import pulumi_json

ROOT = Path(__file__).resolve().parent.parent

SERVICE = "gcp:projects/service:Service"
CORPORA = {
    "tickets": {"table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body", "models": ["nnlm", "textembedding"], "schedule": "every 24 hours"},
    "notes": {"table": "acme-data.support.notes", "key": ["id"], "text": "body", "models": ["swivel"], "schedule": "none"},
}


def kind(resource: Declared) -> str:
    """A declared resource as NEEDS names it: its Pulumi type, or for the program's dynamic resources what it is."""
    if resource.type != DYNAMIC:
        return resource.type
    inputs = resource.inputs
    for key, name in (
        ("drop_sql", "statement"), ("takeover_sql", "first-fill"), ("artifact_uri", "vertex-model"), ("machine_type", "vertex-deployment"),
        ("destination_location", "row-copy"), ("image", "serving-image"),
    ):
        if key in inputs:
            return f"dynamic:{name}"
    if {"setting", "key", "text"} <= set(inputs):
        return "dynamic:source-table-check"
    return f"dynamic:unknown {sorted(inputs)}"


def declared_kinds(run: ProgramRun) -> set[str]:
    return {kind(r) for r in run.declared.values() if not r.type.startswith("bqml-text-embeddings:")}


def settings_of(values: dict[str, Any]) -> Any:
    return stack_config.settings_from(pulumi_json(values), {})


@pytest.fixture(scope="module")
def full(base_config: dict) -> tuple[dict, ProgramRun]:
    values = {**base_config, "models": ["nnlm", "swivel", "bert", "textembedding"], "corpora": CORPORA}
    return values, run_program(values)


@pytest.fixture(scope="module")
def imported_corpus(base_config: dict) -> tuple[dict, ProgramRun]:
    values = {**base_config, "corpora": {"notes": CORPORA["notes"]}}
    return values, run_program(values)


@pytest.fixture(scope="module")
def own_image(base_config: dict) -> tuple[dict, ProgramRun]:
    values = {**base_config, "models": ["bert"], "bert": {"servingImage": "us-central1-docker.pkg.dev/my-proj-123/images/serving:2.20.0"}}
    return values, run_program(values)


def cases(runs: dict, base_config: dict, full: tuple, own_image: tuple, imported_corpus: tuple) -> list[tuple[str, dict, ProgramRun]]:
    overrides = {
        "default": {},
        "all": {"models": ["nnlm", "swivel", "bert"]},
        "bert": {"models": ["bert"]},
        "no_samples": {"samplePredictions": {"rows": 0}},
        "four": {"models": ["nnlm", "swivel", "bert", "textembedding"]},
        "managed": {"models": ["textembedding"], "textEmbedding": {"endpoint": "gemini-embedding-001"}},
    }
    found = [(name, {**base_config, **extra}, runs[name]) for name, extra in overrides.items()]
    return [*found, ("corpora", *full), ("own image", *own_image), ("imported corpus", *imported_corpus)]


def test_the_apis_expected_are_exactly_the_services_the_program_enables(runs: dict, base_config: dict, full: tuple, own_image: tuple, imported_corpus: tuple) -> None:
    for name, values, run in cases(runs, base_config, full, own_image, imported_corpus):
        declared = {r.inputs["service"] for r in run.of_type(SERVICE)}
        assert set(apis.stack_apis(settings_of(values))) == declared, name


def test_every_resource_the_program_declares_has_a_permissions_row_that_applies(runs: dict, base_config: dict, full: tuple, own_image: tuple, imported_corpus: tuple) -> None:
    for name, values, run in cases(runs, base_config, full, own_image, imported_corpus):
        active = permissions.features(settings_of(values))
        covered = {resource for need in permissions.NEEDS if need.when in active for resource in need.resources}
        assert declared_kinds(run) - covered == set(), name


def test_no_row_names_a_resource_the_full_stack_never_declares(full: tuple) -> None:
    values, run = full
    active = permissions.features(settings_of(values))
    assert active == {
        permissions.ALWAYS, permissions.CONNECTION, permissions.BERT, permissions.BERT_MIRROR,
        permissions.CORPORA, permissions.CORPUS_REMOTE, permissions.SAMPLES,
    }
    listed = {resource for need in permissions.NEEDS for resource in need.resources}
    assert listed - declared_kinds(run) == set()


def test_every_row_says_what_grants_it_and_where_that_is_written() -> None:
    for need in permissions.NEEDS:
        assert need.why and need.source.startswith("https://"), need
        assert bool(need.permissions) == bool(need.role), need
        assert need.role == "" or need.role.startswith("roles/"), need
        for permission in need.permissions:
            service, resource, verb = permission.split(".")
            assert service and resource and verb, permission


def test_the_docs_list_every_row_with_its_permissions_and_role() -> None:
    rows = [line for line in (ROOT / "docs" / "preflight.md").read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    for need in permissions.NEEDS:
        if need.permissions:
            cells = f"| {', '.join(f'`{p}`' for p in need.permissions)} | `{need.role}` |"
            assert any(line.startswith(f"| {need.on} | {need.when} {cells}") for line in rows), need


def test_the_reliability_rows_name_tests_that_exist() -> None:
    text = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")
    section = text.split("## Preflight", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", section))
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)\(", (ROOT / "tests" / "test_preflight.py").read_text(encoding="utf-8"), re.M))
    assert named and named <= defined, sorted(named - defined)
