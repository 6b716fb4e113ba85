"""Configuration: defaults, documentation in Pulumi.yaml, and one clear error per bad value."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from bqml_text_embeddings.config import bert as config_bert
from stack import config
from stack.config import ConfigError, parse

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_with_only_the_project_set() -> None:
    settings = parse({"project": "my-proj-123"})
    assert settings.project == "my-proj-123"
    assert settings.region == "us-central1"
    assert settings.location == "US"
    assert settings.dataset == "tf_models_tutorial"
    assert settings.models == ("nnlm", "swivel")
    assert settings.model_sources == {}
    assert settings.build_dir == ROOT / ".build"
    assert settings.build_jobs is None  # one per core
    assert parse({"project": "my-proj-123", "buildJobs": "2"}).build_jobs == 2
    assert settings.samples == config.SampleSettings(rows=500, table="bigquery-public-data.imdb.reviews", column="review")
    # BERT's default runtime: TensorFlow Serving's own image, through the stack's remote repository.
    assert settings.bert == config.BertSettings(
        machine_type="n1-standard-2", min_replicas=1, max_replicas=1, runtime="tf-serving-2.20", serving_image=None
    )
    assert settings.bert.mirrors_image
    assert settings.text_embedding == config.TextEmbeddingSettings(endpoint="text-embedding-005")
    assert settings.evaluation == config.EvaluationSettings(rows=1000)
    assert settings.evaluation.per_class == 500 and settings.evaluation.enabled
    assert settings.built_models == ("nnlm", "swivel") and not settings.with_connection


def test_the_managed_model_needs_the_connection_but_no_build() -> None:
    settings = parse({"project": "my-proj-123", "models": ["textembedding", "nnlm"], "textEmbedding": {"endpoint": "gemini-embedding-001"}})
    assert settings.models == ("textembedding", "nnlm")
    assert settings.built_models == ("nnlm",)
    assert settings.with_connection and not settings.with_bert
    assert settings.text_embedding.endpoint == "gemini-embedding-001"
    assert parse({"project": "my-proj-123", "evaluation": {"rows": "0"}}).evaluation.enabled is False


def test_pulumi_yaml_documents_the_same_defaults() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "bqml-text-embeddings"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    declared = project["config"]
    assert declared["gcp:region"] == config.DEFAULTS["region"]
    for key in ("location", "dataset", "models", "buildDir", "buildJobs"):
        entry = declared[f"bqml-text-embeddings:{key}"]
        assert entry["default"] == config.DEFAULTS[key], key
        assert entry["description"]
    for key in ("modelSources", "samplePredictions", "bert", "textEmbedding", "evaluation"):
        value = declared[f"bqml-text-embeddings:{key}"]["value"]
        assert value == {k: v for k, v in config.DEFAULTS[key].items() if v is not None}, key


def test_partial_objects_keep_the_other_defaults_and_locations_normalise() -> None:
    settings = parse({
        "project": "my-proj-123",
        "location": "eu",
        "samplePredictions": {"rows": 0},
        "evaluation": {"rows": 0},
        "bert": {"maxReplicas": 3},
        "models": ["bert"],
        "region": "europe-west4",
    })
    assert settings.location == "EU"
    assert settings.samples.rows == 0 and not settings.samples.enabled
    assert settings.samples.table == "bigquery-public-data.imdb.reviews"
    assert (settings.bert.min_replicas, settings.bert.max_replicas) == (1, 3)
    assert settings.bert.serving_image is None and settings.bert.runtime == "tf-serving-2.20"


BAD = [
    ({"project": None}, "gcp:project: required; set it with `pulumi config set gcp:project MY_PROJECT`"),
    ({"project": "My_Project"}, "gcp:project: 'My_Project' is not a Google Cloud project id"),
    ({"models": []}, "bqml-text-embeddings:models: []: give a non-empty list drawn from ['nnlm', 'swivel', 'bert', 'textembedding']"),
    ({"models": ["nnlm", "elmo"]}, "bqml-text-embeddings:models: unknown model(s) ['elmo']: choose from ['nnlm', 'swivel', 'bert', 'textembedding']"),
    ({"models": "nnlm"}, "bqml-text-embeddings:models: 'nnlm': give a non-empty list"),
    ({"models": ["nnlm", "nnlm"]}, "bqml-text-embeddings:models: ['nnlm', 'nnlm'] names a model twice"),
    ({"dataset": "tf-models"}, "bqml-text-embeddings:dataset: 'tf-models' is not a BigQuery dataset id"),
    ({"dataset": "x" * 1025}, "is not a BigQuery dataset id: 1-1024 letters, digits or underscores"),
    ({"location": "mars-north1"}, "bqml-text-embeddings:location: 'mars-north1' is not a BigQuery location: use US, EU or a region"),
    ({"region": "us central"}, "gcp:region: 'us central' is not a Google Cloud region"),
    ({"samplePredictions": {"rows": -1}}, "bqml-text-embeddings:samplePredictions.rows: -1: give a whole number from 0 (off) to 1,000,000"),
    ({"samplePredictions": {"rows": 2.5}}, "bqml-text-embeddings:samplePredictions.rows: 2.5: give a whole number"),
    ({"samplePredictions": {"rows": True}}, "bqml-text-embeddings:samplePredictions.rows: True: give a whole number"),
    ({"samplePredictions": {"rows": "many"}}, "bqml-text-embeddings:samplePredictions.rows: 'many': give a whole number"),
    ({"bert": {"maxReplicas": "two"}}, "bqml-text-embeddings:bert.maxReplicas: 'two': give a whole number from 1 to 10"),
    ({"bert": {"maxReplicas": 1_000_000}}, "bqml-text-embeddings:bert.maxReplicas: 1000000: give a whole number from 1 to 10 (a cost guard: every replica is billed while deployed)"),
    ({"bert": {"maxReplicas": 11}}, "bqml-text-embeddings:bert.maxReplicas: 11: give a whole number from 1 to 10"),
    ({"bert": {"maxReplicas": 0}}, "bqml-text-embeddings:bert.maxReplicas: 0: give a whole number from 1 to 10"),
    ({"bert": {"minReplicas": 11, "maxReplicas": 11}}, "bqml-text-embeddings:bert.maxReplicas: 11: give a whole number from 1 to 10"),
    ({"samplePredictions": {"rows": 10**9}}, "bqml-text-embeddings:samplePredictions.rows: 1000000000: give a whole number from 0 (off) to 1,000,000"),
    ({"samplePredictions": {"table": "imdb.reviews"}}, "bqml-text-embeddings:samplePredictions.table: 'imdb.reviews': give a table as project.dataset.table"),
    ({"samplePredictions": {"table": "p.d.t`; DROP TABLE x; --"}}, "samplePredictions.table: 'p.d.t`; DROP TABLE x; --': give a table as project.dataset.table"),
    ({"samplePredictions": {"column": "review; DROP TABLE x"}}, "bqml-text-embeddings:samplePredictions.column: 'review; DROP TABLE x' is not a plain column name"),
    ({"samplePredictions": {"limit": 5}}, "bqml-text-embeddings:samplePredictions.limit: unknown key; allowed are ['rows', 'table', 'column']"),
    ({"samplePredictions": "500"}, "bqml-text-embeddings:samplePredictions: '500': give an object with keys ['rows', 'table', 'column']"),
    ({"location": "EU", "evaluation": {"rows": 0}}, "bqml-text-embeddings:samplePredictions.table: bigquery-public-data.imdb.reviews is in US and a query in a EU dataset cannot read it"),
    ({"buildJobs": -1}, "bqml-text-embeddings:buildJobs: -1: give how many models may build at once, or 0 for one per core"),
    ({"buildJobs": "many"}, "bqml-text-embeddings:buildJobs: 'many': give how many models may build at once"),
    ({"bert": {"minReplicas": 0}}, "bqml-text-embeddings:bert.minReplicas: 0: give a whole number of at least 1"),
    ({"bert": {"minReplicas": 3, "maxReplicas": 2}}, "bqml-text-embeddings:bert.maxReplicas: 2 is below bert.minReplicas (3)"),
    ({"bert": {"machineType": ""}}, "bqml-text-embeddings:bert.machineType: '': give a Compute Engine machine type"),
    ({"bert": {"servingImage": "not an image"}}, "bqml-text-embeddings:bert.servingImage: 'not an image' is not a container image URI"),
    ({"bert": {"servingImage": "tensorflow/serving:2.20.0"}}, "bqml-text-embeddings:bert.servingImage: 'tensorflow/serving:2.20.0': Vertex AI takes a model's image only from"),
    ({"bert": {"servingImage": "docker.io/tensorflow/serving:2.20.0"}}, "bqml-text-embeddings:bert.servingImage: 'docker.io/tensorflow/serving:2.20.0': Vertex AI takes a model's image only from an Artifact Registry repository in gcp:region: give us-central1-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG"),
    ({"bert": {"servingImage": "us-docker.pkg.dev/p/multi/tensorflow/serving:2.20.0"}}, "Vertex AI takes a model's image only from an Artifact Registry repository in gcp:region"),
    ({"bert": {"runtime": "tf2-cpu.2-8"}}, "bqml-text-embeddings:bert.runtime: 'tf2-cpu.2-8': choose one of ['tf-serving-2.20', 'prebuilt-tf2-cpu.2-15']"),
    ({"bert": {"runtime": None}}, "bqml-text-embeddings:bert.runtime: None: choose one of"),
    ({"evaluation": {"rows": 999}}, "bqml-text-embeddings:evaluation.rows: 999: give 0 (off) or an even number from 20 to 25,000"),
    ({"evaluation": {"rows": 10}}, "bqml-text-embeddings:evaluation.rows: 10: give 0 (off) or an even number from 20"),
    ({"evaluation": {"rows": 30000}}, "bqml-text-embeddings:evaluation.rows: 30000: give 0 (off) or an even number"),
    ({"evaluation": {"rows": "all"}}, "bqml-text-embeddings:evaluation.rows: 'all': give 0 (off)"),
    ({"evaluation": {"split": "test"}}, "bqml-text-embeddings:evaluation.split: unknown key; allowed are ['rows']"),
    ({"location": "EU", "samplePredictions": {"rows": 0}}, "bqml-text-embeddings:evaluation.rows: the evaluation reads bigquery-public-data.imdb.reviews, which is in US, and a EU dataset cannot: set evaluation.rows to 0, or location to US"),
    ({"textEmbedding": {"endpoint": "text-embedding-005'); DROP MODEL x; --"}}, "bqml-text-embeddings:textEmbedding.endpoint: \"text-embedding-005'); DROP MODEL x; --\": give a Vertex AI embedding model id"),
    ({"textEmbedding": {"endpoint": "https://example.com/x"}}, "bqml-text-embeddings:textEmbedding.endpoint: 'https://example.com/x': give a Vertex AI embedding model id"),
    ({"textEmbedding": {"model": "x"}}, "bqml-text-embeddings:textEmbedding.model: unknown key; allowed are ['endpoint']"),
    ({"modelSources": {"glove": "/x"}}, "bqml-text-embeddings:modelSources: unknown source 'glove'"),
    ({"modelSources": {"nnlm": ""}}, "bqml-text-embeddings:modelSources: nnlm: give a TF Hub URL, a gs:// path or a local SavedModel directory"),
    ({"models": ["bert"], "region": "europe-west4", "bert": {"remoteModelLocation": "dataset"}}, "gcp:region: a BigQuery remote model in a US dataset cannot use a Vertex AI endpoint in europe-west4: choose one of ['us-central1', "),
    ({"models": ["bert"], "location": "EU", "region": "europe-west2", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}, "bert": {"remoteModelLocation": "dataset"}}, "cannot use a Vertex AI endpoint in europe-west2"),
    ({"models": ["bert"], "location": "asia-northeast3", "region": "asia-northeast1", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}, "bert": {"remoteModelLocation": "dataset"}}, "choose one of ['asia-northeast3'], change location, or set bert.remoteModelLocation to endpoint-region"),
    ({"models": ["bert"], "region": "us-east5"}, "gcp:region: BigQuery reaches models deployed to Vertex AI only in ['asia-east1', "),
    ({"models": ["bert"], "region": "europe-north1", "bert": {"remoteModelLocation": "dataset"}}, "(its locations page, \"Locations for remote models\"), not europe-north1: choose one of those"),
    ({"bert": {"remoteModelLocation": "US"}}, "bqml-text-embeddings:bert.remoteModelLocation: 'US': choose endpoint-region (a dataset in gcp:region, as BigQuery's locations page requires) or dataset"),
    ({"bert": {"remoteModelLocation": None}}, "bqml-text-embeddings:bert.remoteModelLocation: None: choose endpoint-region"),
    ({"models": ["bert"], "dataset": "d" * 1020}, "bqml-text-embeddings:dataset: BERT's dataset dddd"),
    ({"models": ["bert"], "samplePredictions": {"rows": 100_001}}, "bqml-text-embeddings:samplePredictions.rows: 100,001 rows would be copied through this machine to BERT's dataset in us-central1 (bert.remoteModelLocation: endpoint-region): give at most 100,000, or set location to us-central1"),
    ({"models": ["nnlm", "bert"], "corpora": {"tickets": {"table": "acme-data.support.tickets", "key": ["id"], "text": "body", "models": ["nnlm", "bert"], "schedule": "none"}}},
     "bqml-text-embeddings:corpora.tickets.models: bert's remote model lives in us-central1 (bert.remoteModelLocation: endpoint-region) and this corpus in US, "
     "and BigQuery queries within one location: set location to us-central1 so the whole stack lives there, drop bert from this corpus, "
     "or set bert.remoteModelLocation to dataset (the tutorial's placement)"),
]


@pytest.mark.parametrize("overrides, message", BAD, ids=[m[:40] for _, m in BAD])
def test_each_bad_value_gets_one_clear_error_naming_the_key(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse({"project": "my-proj-123", **overrides})
    lines = str(failure.value).splitlines()
    assert lines[0] == "invalid configuration:"
    assert len(lines) == 2, lines  # exactly one problem reported for one bad value
    assert message in lines[1]


def test_whole_numbers_set_with_config_set_path_arrive_as_strings_and_are_accepted() -> None:
    settings = parse({"project": "my-proj-123", "samplePredictions": {"rows": "250"}, "bert": {"minReplicas": "1", "maxReplicas": "2"}})
    assert settings.samples.rows == 250
    assert (settings.bert.min_replicas, settings.bert.max_replicas) == (1, 2)


def test_the_replica_bound_admits_ten_and_sits_above_the_policy_packs_default_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "policy"))  # the pack imports its modules as the CLI runs it
    import bqml_policies

    assert parse({"project": "my-proj-123", "bert": {"minReplicas": 10, "maxReplicas": "10"}}).bert.max_replicas == 10
    # The pack's cap is the tighter guard a team can raise; the config's stays the ceiling above it.
    assert bqml_policies.DEFAULT_MAX_REPLICAS <= config.MAX_BERT_REPLICAS


def test_several_bad_values_are_reported_together() -> None:
    with pytest.raises(ConfigError) as failure:
        parse({"project": None, "dataset": "a-b", "bert": {"minReplicas": 0}})
    assert len(str(failure.value).splitlines()) == 4


def test_bert_regions_that_fit_the_dataset_location() -> None:
    assert parse({"project": "my-proj-123", "models": ["bert"], "region": "us-east4"}).region == "us-east4"
    eu = parse({"project": "my-proj-123", "models": ["bert"], "location": "EU", "region": "europe-west4", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}})
    assert eu.location == "EU"
    single = parse({"project": "my-proj-123", "models": ["bert"], "location": "asia-northeast3", "region": "asia-northeast3", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}})
    assert single.bert.serving_image is None


def test_the_prebuilt_runtime_uses_the_image_nearest_the_region_until_google_ends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def bert(region: str, **extra: object) -> config.BertSettings:
        return parse({"project": "my-proj-123", "region": region, "bert": {"runtime": "prebuilt-tf2-cpu.2-15", **extra}}).bert

    assert bert("us-central1").serving_image == "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
    assert bert("europe-west4").serving_image == "europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
    assert bert("asia-northeast3").serving_image == "asia-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
    assert not bert("us-central1").mirrors_image
    own = "us-central1-docker.pkg.dev/p/serving/tensorflow/serving:2.20.0"
    assert parse({"project": "my-proj-123", "bert": {"servingImage": own}}).bert.serving_image == own  # no mirror then
    prebuilt = "europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"  # Google's own: any of its hosts
    assert parse({"project": "my-proj-123", "bert": {"servingImage": prebuilt, "runtime": "prebuilt-tf2-cpu.2-15"}}).bert.serving_image == prebuilt

    monkeypatch.setattr(config_bert, "_today", lambda: date(2027, 1, 14))
    assert bert("us-central1").runtime == "prebuilt-tf2-cpu.2-15"  # the last day it is available
    monkeypatch.setattr(config_bert, "_today", lambda: date(2027, 1, 15))
    with pytest.raises(ConfigError) as failure:
        bert("us-central1")
    assert str(failure.value).splitlines()[1] == (
        "  bqml-text-embeddings:bert.runtime: prebuilt-tf2-cpu.2-15 passed Google's end of availability on 2027-01-14 "
        "(new models on it may be refused): choose tf-serving-2.20"
    )


def test_bert_lives_in_a_dataset_of_its_own_in_the_endpoints_region_unless_told_otherwise() -> None:
    """Issue 19: BigQuery's locations page supports no Vertex AI deployed model in a multi-region."""
    us = parse({"project": "my-proj-123", "models": ["bert"]})
    assert us.bert.remote_model_location == "endpoint-region" and us.bert_apart
    assert (us.dataset_of("bert"), us.location_of("bert")) == ("tf_models_tutorial_us_central1", "us-central1")
    assert (us.dataset_of("nnlm"), us.location_of("nnlm")) == ("tf_models_tutorial", "US")
    assert us.with_connection and not us.with_stack_connection  # BERT's connection is its own
    assert parse({"project": "my-proj-123", "models": ["bert", "textembedding"]}).with_stack_connection
    assert parse({"project": "my-proj-123", "models": ["bert"], "samplePredictions": {"rows": 100_000}}).samples.rows == 100_000
    assert parse({"project": "my-proj-123", "models": ["bert"], "samplePredictions": {"rows": 200_000}, "bert": {"remoteModelLocation": "dataset"}}).samples.rows == 200_000
    # Outside the multi-region too: the rows BERT reads are copied wherever gcp:region is.
    eu = parse({"project": "my-proj-123", "models": ["bert"], "region": "europe-west4", "dataset": "emb"})
    assert (eu.dataset_of("bert"), eu.location_of("bert")) == ("emb_europe_west4", "europe-west4")

    # The tutorial's placement: one dataset, the endpoint inside its multi-region.
    tutorial = parse({"project": "my-proj-123", "models": ["bert"], "bert": {"remoteModelLocation": "dataset"}})
    assert not tutorial.bert_apart and tutorial.with_stack_connection
    assert (tutorial.dataset_of("bert"), tutorial.location_of("bert")) == ("tf_models_tutorial", "US")
    # `location` already gcp:region: everything in the one dataset, whichever placement.
    regional = parse({"project": "my-proj-123", "models": ["bert"], "location": "us-central1", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}})
    assert not regional.bert_apart and (regional.dataset_of("bert"), regional.location_of("bert")) == ("tf_models_tutorial", "us-central1")
    assert not parse({"project": "my-proj-123"}).bert_apart  # no BERT, nothing apart


def test_a_corpus_may_use_bert_where_bert_lives_beside_its_table() -> None:
    tickets = {"table": "acme-data.support.tickets", "key": ["id"], "text": "body", "models": ["bert"], "schedule": "none"}
    for extra in ({"bert": {"remoteModelLocation": "dataset"}},
                  {"location": "us-central1", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}}):
        (corpus,) = parse({"project": "my-proj-123", "models": ["bert"], "corpora": {"tickets": tickets}, **extra}).corpora
        assert corpus.models == ("bert",)


def test_the_config_table_shows_berts_defaults_and_both_placements() -> None:
    import json

    page = (ROOT / "docs" / "configuration.md").read_text()
    table = page[page.index("## The stack's keys"):page.index("## Embed your own table")]
    (row,) = [line for line in table.splitlines() if line.startswith("| `bert` |")]
    assert json.loads(row.split("|")[2].strip().strip("`")) == {k: v for k, v in config.DEFAULT_BERT.items() if v is not None}
    for placement in config.BERT_PLACEMENTS:
        assert f"`{placement}`" in row, placement
    # The placement's full story is linked from the README's index and from the BERT page.
    readme, bert = (ROOT / "README.md").read_text(), (ROOT / "docs" / "bert.md").read_text()
    assert "(docs/bert-placement.md)" in readme and "(bert-placement.md)" in bert and (ROOT / "docs" / "bert-placement.md").is_file()
