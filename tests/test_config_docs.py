"""One definition of the keys: the parser enforces it, docs/configuration.md's tables are written from it, Pulumi.yaml agrees."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bqml_text_embeddings.config import bert as config_bert
from bqml_text_embeddings.config.corpus_keys import CORPUS
from bqml_text_embeddings.config.field import Field
from bqml_text_embeddings.config.keys import BERT, BUILD_JOBS, EVALUATION, KEYS, MODEL_SOURCES, MODELS, OURS, REGION, SAMPLES
from scripts import config_table
from stack.config import ConfigError, parse
from tests.test_config_corpora import TICKETS

ROOT = Path(__file__).resolve().parent.parent
NS = "bqml-text-embeddings"


def test_the_configuration_page_holds_exactly_the_tables_written_from_the_keys() -> None:
    assert config_table.PAGE == ROOT / "docs" / "configuration.md"
    page = config_table.PAGE.read_text(encoding="utf-8")
    assert config_table.render(page) == page, "docs/configuration.md is stale: run .venv/bin/python scripts/config_table.py"
    assert config_table.main(["--check"]) == 0
    # Every key has its row, in the table's order.
    for name, fields in config_table.TABLES.items():
        block = page[page.index(config_table.begin(name)):page.index(config_table.end(name))]
        assert re.findall(r"^\| `([^`]+)` \|", block, flags=re.MULTILINE) == [field.name for field in fields]


def test_a_stale_or_hand_edited_table_is_rewritten_and_the_check_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    page = config_table.PAGE.read_text(encoding="utf-8")
    stale = page.replace("| `maxAttempts` | `3` |", "| `maxAttempts` | `5` |").replace("at most 1,000,000 rows", "at most 10 rows")
    assert stale != page
    copy = tmp_path / "configuration.md"
    copy.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(config_table, "PAGE", copy)
    assert config_table.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert config_table.main([]) == 0
    assert copy.read_text(encoding="utf-8") == page
    with pytest.raises(ValueError, match="needs the markers"):
        config_table.render(page.replace(config_table.end("corpus"), ""))


def test_the_default_cell_shows_what_the_parser_defaults_to() -> None:
    cells = {field.name: config_table.default_cell(field) for field in KEYS}
    corpus = {field.name: config_table.default_cell(field) for field in CORPUS.fields}
    assert cells["gcp:project"] == "required" and corpus["table"] == "required" and corpus["models"] == "required"
    assert cells["models"] == '`["nnlm", "swivel"]`' and cells["location"] == "`US`" and cells["buildJobs"] == "`0`"
    assert cells["bert"].startswith('`{"machineType": "n1-standard-2"') and "servingImage" not in cells["bert"]  # unset by default
    assert (corpus["batchSize"], corpus["notifyEmail"], corpus["notifyTopic"], corpus["index"]) == ("per model", "`false`", "none", "`IVF`")
    with pytest.raises(ValueError, match="unescaped"):
        config_table.table([Field("x", 1, "a | b")])


def test_pulumi_yaml_declares_each_of_our_keys_with_the_tables_type_and_default() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    assert sorted(k for k in declared if k.startswith(f"{NS}:")) == sorted(f"{NS}:{field.name}" for field in OURS)
    assert declared[REGION.name] == REGION.default
    assert "gcp:project" not in declared  # required: no default to declare
    for field in OURS:
        entry = declared[f"{NS}:{field.name}"]
        if field.kind == "object":  # Pulumi.yaml types no object: it gives the value
            assert entry == {"value": {k: v for k, v in field.default.items() if v is not None}}, field.name
            continue
        assert entry["type"] == field.kind, field.name
        assert entry["default"] == field.default, field.name
        assert entry["description"].strip(), field.name
        if field.kind == "array":
            assert entry["items"] == {"type": "string"}, field.name
        for choice in field.choices:
            assert choice in entry["description"], (field.name, choice)


def test_pulumi_new_asks_for_the_project_and_offers_the_keys_own_defaults() -> None:
    """`pulumi new <this repository>` prompts with Pulumi.yaml's template: the project (no default), then scalar keys."""
    template = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["template"]
    assert template["description"].strip() and template["displayName"].strip()
    prompts = template["config"]
    assert "default" not in prompts["gcp:project"] and prompts["gcp:project"]["description"].strip()
    fields = {REGION.name: REGION, **{f"{NS}:{field.name}": field for field in OURS}}
    for key, prompt in prompts.items():
        if key == "gcp:project":
            continue
        field = fields[key]  # a key the program reads
        assert field.kind != "object" and prompt["description"].strip(), key
        assert prompt["default"] == field.default, key
    # What a new project must give is asked for: the one required key.
    required = {field.name if ":" in field.name else f"{NS}:{field.name}" for field in KEYS if field.required}
    assert required == {"gcp:project"} and required <= set(prompts)


def test_pulumi_yamls_corpus_example_is_valid_config_naming_every_corpus_key() -> None:
    text = (ROOT / "Pulumi.yaml").read_text(encoding="utf-8")
    block = text[text.index(f"{NS}:corpora:"):]
    example = yaml.safe_load("\n".join(line.split("#", 1)[1][3:] for line in block.splitlines() if line.startswith("    #   ")))
    ((name, corpus),) = example.items()
    assert list(corpus) == [field.name for field in CORPUS.fields]
    (parsed,) = parse({"project": "my-proj-123", "models": ["nnlm", "textembedding"], "corpora": example}).corpora
    assert parsed.name == name and parsed.notify_topic == corpus["notifyTopic"]


def _with(path: str, value: Any) -> dict[str, Any]:
    """The configuration with one key set: buildJobs, bert.maxReplicas or corpora.NAME.index."""
    section, _, key = path.partition(".")
    if section == "corpora":
        return {"models": ["nnlm"], "corpora": {"tickets": {**TICKETS, key.partition(".")[2]: value}}}
    return {section: {key: value}} if key else {section: value}


BOUNDED = [
    *((f"{section.name}.{field.name}", field) for section in (SAMPLES, BERT, EVALUATION) for field in section.fields if field.low is not None),
    *((f"corpora.NAME.{field.name}", field) for field in CORPUS.fields if field.low is not None),
    *((field.name, field) for field in OURS if field.low is not None),
]


@pytest.mark.parametrize("path, field", BOUNDED, ids=[p for p, _ in BOUNDED])
def test_the_parser_enforces_each_bound_the_table_gives(path: str, field: Field) -> None:
    assert field.low is not None
    inside = [field.low] if field.high is None else [field.low, field.high]
    for value in inside:
        parse({"project": "my-proj-123", **_with(path, value)})
    outside = [field.low - 1] if field.high is None else [field.low - 1, field.high + 1]
    key = path.replace("NAME", "tickets")
    for value in outside:
        with pytest.raises(ConfigError) as failure:
            parse({"project": "my-proj-123", **_with(path, value)})
        lines = str(failure.value).splitlines()
        assert len(lines) == 2 and lines[1].startswith(f"  {NS}:{key}: {value!r}: give "), lines


CHOOSING = [
    (MODELS.name, MODELS, lambda choice: [choice]),
    (MODEL_SOURCES.name, MODEL_SOURCES, lambda choice: {choice: "gs://mirror/model"}),
    *((f"bert.{field.name}", field, lambda choice: choice) for field in BERT.fields if field.choices),
    *((f"corpora.NAME.{field.name}", field, lambda choice: choice) for field in CORPUS.fields if field.choices),
]


@pytest.mark.parametrize("path, field, given", CHOOSING, ids=[c[0] for c in CHOOSING])
def test_the_parser_takes_each_choice_the_table_gives_and_nothing_else(path: str, field: Field, given: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config_bert, "_today", lambda: date(2026, 1, 1))  # before any runtime's end of availability
    assert field.choices
    for choice in field.choices:
        parse({"project": "my-proj-123", **_with(path, given(choice))})
    with pytest.raises(ConfigError) as failure:
        parse({"project": "my-proj-123", **_with(path, given("not-a-choice"))})
    assert f"{NS}:{path.replace('NAME', 'tickets')}: " in str(failure.value)


def test_the_bounds_and_choices_tested_above_are_every_one_the_table_gives() -> None:
    bounded = {path for path, _ in BOUNDED}
    assert bounded == {
        "samplePredictions.rows", "bert.minReplicas", "bert.maxReplicas", "evaluation.rows", "buildJobs",
        "corpora.NAME.batchSize", "corpora.NAME.maxAttempts", "corpora.NAME.timeBudgetMinutes", "corpora.NAME.maxDeletePercent",
    }
    assert BUILD_JOBS.low == 0 and BUILD_JOBS.high is None
    assert {path for path, _, _ in CHOOSING} == {"models", "modelSources", "bert.runtime", "bert.remoteModelLocation", "corpora.NAME.index"}
