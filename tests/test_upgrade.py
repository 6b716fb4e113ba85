"""A stack made before the package keeps what it holds: every resource is declared again with the same
inputs, under its URN or an alias of it, but for these, and nothing else is added:
- the tutorial's search functions' heading comment: an update in place;
- with BERT, its image pinned by digest (vertex/image_pin.py, the one new resource): BERT is uploaded once
  more with the pinned image and its deployment moves to it (the model is replaced create-before-delete,
  the new one deployed before the old one is undeployed), and what BERT embedded (its samples, its
  evaluation rows, a corpus's rows) is embedded again once, since BERT's version is now the model
  uploaded, not the deployment (so that a resize embeds nothing again).

tests/fixtures/declared_before_package.json is what the program declared, under the same mocks and
configurations, at the commit before the package (945ab0a): `snapshot()` below, run there.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bqml_text_embeddings.bigquery.statement import BigQueryStatementProvider
from bqml_text_embeddings.vertex.resources import VertexModelProvider
from tests.conftest import PROJECT
from tests.pulumi_harness import SERVING_DIGEST, ProgramRun, run_program

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "declared_before_package.json"
STACK, PROJECT_NAME = "dev", "bqml-text-embeddings"
CORPORA = {
    "tickets": {"table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body", "models": ["nnlm", "textembedding"], "schedule": "every 24 hours"},
    "articles": {"table": f"{PROJECT}.cms.articles", "key": ["site", "article_id"], "text": "body", "models": ["nnlm"], "schedule": "none",
                 "index": "none", "batchSize": 500, "newestBy": "updated_at"},
}  # fmt: skip
CONFIGS: dict[str, dict[str, Any]] = {
    "default": {},
    "four_models_and_corpora": {"models": ["nnlm", "swivel", "bert", "textembedding"], "corpora": CORPORA},
    "bert_where_the_tutorial_puts_it": {"models": ["bert", "textembedding"], "bert": {"remoteModelLocation": "dataset"}},
}


def _plain(value: Any, marks: dict[str, str]) -> Any:
    """Inputs as JSON, without the pickled dynamic provider, and with what this session's TF Hub stand-ins
    decide (a build's digest, the model versions hashed from it, its files' paths) marked, not spelled."""
    if isinstance(value, dict):
        return {k: _plain(v, marks) for k, v in sorted(value.items()) if k != "__provider"}
    if isinstance(value, list):
        return [_plain(v, marks) for v in value]
    if hasattr(value, "path"):  # a FileAsset: the file within its build
        return {"asset": re.sub(r"^.*/([a-z]+)-[0-9a-f]{20}/model/", r"<build:\1>/", str(value.path))}
    if isinstance(value, str):
        for found, mark in marks.items():
            value = value.replace(found, mark)
    return value


def _marks(build_dir: str, run: ProgramRun) -> dict[str, str]:
    marks = {}
    for manifest in Path(build_dir).glob("*/manifest.json"):
        built = json.loads(manifest.read_text())
        marks[built["digest"][:16]] = f"<digest:{built['model']}>"
    for d in run.declared.values():  # a model's version: a hash of its statement (and deployment)
        if d.name.endswith(("-create-model", "-create-remote-model")) and "sql" in d.inputs:
            for versions in ([d.inputs["sql"]], [d.inputs["sql"], f"projects/{PROJECT}/locations/us-central1/models/4242"]):
                marks[hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]] = f"<version:{d.name.split('-create-')[0]}>"
    return marks


def snapshot(base_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{config: {urn: {type, name, parent, inputs}}} of every resource the program declares."""
    return {name: snapshot_of(run_program({**base_config, **config}), base_config["buildDir"]) for name, config in CONFIGS.items()}


def snapshot_of(run: ProgramRun, build_dir: str) -> dict[str, Any]:
    marks = _marks(build_dir, run)
    return {d.urn: {"type": d.type, "name": d.name, "parent": d.parent, "inputs": _plain(d.inputs, marks)} for d in run.declared.values()}


def real(urn: str) -> str:
    """A URN as the engine spells it: the mocks put the root stack's type in top-level resources' URNs, the engine does not."""
    return urn.replace("::pulumi:pulumi:Stack$", "::")


def _urn(type_: str, name: str, parent: str | None) -> str:
    qualified = type_ if parent is None else f"{parent.split('::')[2]}${type_}"
    return f"urn:pulumi:{STACK}::{PROJECT_NAME}::{qualified}::{name}"


def known_as(run: ProgramRun) -> dict[str, set[str]]:
    """Every URN each resource answers to: its own and its aliases', each also under every URN its parent
    answers to (the engine's rule: a child inherits its parent's aliases)."""
    memo: dict[str, set[str | None]] = {}

    def urns(urn: str | None) -> set[str | None]:
        if not urn or urn not in run.declared:
            return {None}  # the root stack: no parent in a URN
        if urn not in memo:
            d = run.declared[urn]
            parents = urns(d.parent)
            found: set[str | None] = {real(urn), *(_urn(d.type, d.name, p) for p in parents)}
            for alias in d.aliases:
                if "urn" in alias:
                    found.add(real(alias["urn"]))
                    continue
                pinned = alias["parent"]
                under = parents if pinned is ... else {None} if pinned is None else urns(pinned)
                found.update(_urn(alias["type"] or d.type, alias["name"] or d.name, p) for p in under)
            memo[urn] = found
        return memo[urn]

    return {urn: {u for u in urns(urn) if u} for urn in run.declared}


@pytest.fixture(scope="module")
def declared_before() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_resource_of_a_stack_made_before_is_declared_again_unchanged(base_config: dict, declared_before: dict, config: str) -> None:
    before = declared_before
    run = run_program({**base_config, **CONFIGS[config]})
    answers = {old: urn for urn, olds in known_as(run).items() for old in olds}
    now = snapshot_of(run, base_config["buildDir"])
    before = {real(urn): was for urn, was in before[config].items()}
    missing = sorted(old for old in before if old not in answers)
    assert missing == [], "resources of the old stack nothing answers to (pulumi up would delete them)"
    changed = {
        old: sorted(k for k in set(was["inputs"]) | set(now[answers[old]]["inputs"]) if was["inputs"].get(k) != now[answers[old]]["inputs"].get(k))
        for old, was in before.items()
        if was["inputs"] != now[answers[old]]["inputs"]
    }
    # One heading for every search (bigquery/search.py) rewrote the comment atop the tutorial's search functions:
    # an update in place (CREATE OR REPLACE TABLE FUNCTION again), which the statement's own diff must say.
    updates = {old for old, keys in changed.items() if keys == ["sql"] and _only_comments_differ(before[old], now[answers[old]])}
    # BERT's image is pinned by digest: its model is uploaded again (a replacement, made before the old one goes),
    # and what BERT embedded is embedded again once, as BERT's version is now the model uploaded.
    with_bert = "bert" in CONFIGS[config].get("models", [])
    repinned = {old for old, keys in changed.items() if keys == ["container"] and _only_the_image_is_pinned(before[old], now[answers[old]])}
    uploaded = f"projects/{PROJECT}/locations/us-central1/models/4242"
    reembedded = {old for old, keys in changed.items() if keys == ["triggers"] and _only_berts_version_moved(before[old], now[answers[old]], uploaded)}
    assert {old: keys for old, keys in changed.items() if old not in updates | repinned | reembedded} == {}, "inputs that changed beyond those"
    assert sorted(now[answers[old]]["name"] for old in repinned) == (["bert-registry-model"] if with_bert else [])
    assert sorted(now[answers[old]]["name"] for old in reembedded) == (["bert-evaluation-embeddings", "bert-sample-embeddings"] if with_bert else [])
    for old in repinned:
        diff = VertexModelProvider().diff("id", before[old]["inputs"], now[answers[old]]["inputs"])
        assert diff.replaces == ["container"] and diff.delete_before_replace is False, old
    added = {urn for urn, olds in known_as(run).items() if not olds & set(before)}
    # The package's TextEmbeddingsTutorial is a component: it groups, and makes nothing in the cloud.
    assert sorted(now[urn]["type"] for urn in added if now[urn]["type"].startswith("bqml-text-embeddings:")) == [
        "bqml-text-embeddings:index:TextEmbeddingsTutorial"
    ]
    custom = sorted(now[urn]["name"] for urn in added if not now[urn]["type"].startswith("bqml-text-embeddings:"))
    assert custom == (["bert-serving-image"] if with_bert else []), "resources the old stack did not have"
    assert all(old.endswith("-search-function") for old in updates), sorted(updates)
    for old in updates:
        diff = BigQueryStatementProvider().diff("id", before[old]["inputs"], now[answers[old]]["inputs"])
        assert diff.changes and not diff.replaces, old


def _only_berts_version_moved(was: dict[str, Any], now: dict[str, Any], uploaded: str) -> bool:
    """The same triggers but BERT's version: the model deployed (the harness's "777") then, the model uploaded now."""
    old, new = was["inputs"]["triggers"], now["inputs"]["triggers"]
    return len(old) == len(new) and old[1] == "777" and new[1] == uploaded and [old[0], *old[2:]] == [new[0], *new[2:]]


def _only_the_image_is_pinned(was: dict[str, Any], now: dict[str, Any]) -> bool:
    """The same container but for its image: the tag it had, now by the digest it resolves to."""
    old, new = was["inputs"]["container"], now["inputs"]["container"]
    repository, _, _tag = old["image_uri"].rpartition(":")
    return {**old, "image_uri": None} == {**new, "image_uri": None} and new["image_uri"] == f"{repository}@{SERVING_DIGEST}"


def _sql_without_comments(was: dict[str, Any]) -> list[str]:
    return [line for line in was["inputs"]["sql"].splitlines() if not line.startswith("--")]


def _only_comments_differ(was: dict[str, Any], now: dict[str, Any]) -> bool:
    return _sql_without_comments(was) == _sql_without_comments(now)

