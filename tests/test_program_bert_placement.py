"""Where BERT's remote model lives, under the SDK's mocks (issue 19, docs/bert-placement.md).

By default (bert.remoteModelLocation: endpoint-region) BERT's remote model, its
connection and everything that queries it live in a dataset in gcp:region, the
rows they read are copied there and BERT's figures copied back; the tutorial's
placement (dataset) keeps it in the stack's dataset. Whatever the placement,
every statement reads and writes datasets of its own location only, as BigQuery
requires, and the endpoint is a shared public one.
"""

from __future__ import annotations

import re

import pulumi
import pytest
from sqlglot import exp

from tests.bigquery_sql import parse, table_name
from tests.conftest import PROJECT
from tests.pulumi_harness import DYNAMIC, ProgramRun, run_program

DATASET = f"{PROJECT}.tf_models_tutorial"
BERT_DATASET = f"{PROJECT}.tf_models_tutorial_us_central1"
PUBLIC = {"bigquery-public-data.imdb": "US"}
REGIONAL_REVIEWS = f"{PROJECT}.reviews_uc1.reviews"  # a copy of the reviews a user keeps in us-central1
SHARED_ENDPOINT = re.compile(
    r"https://(?P<region>[a-z]+-[a-z]+[0-9]+)-aiplatform\.googleapis\.com/v1/projects/my-proj-123/locations/(?P=region)/endpoints/[1-9][0-9]{0,9}"
)


@pytest.fixture(scope="module")
def placements(base_config: dict) -> dict[str, ProgramRun]:
    three = {**base_config, "models": ["nnlm", "bert", "textembedding"]}
    return {
        "apart": run_program(three),
        "tutorial": run_program({**three, "bert": {"remoteModelLocation": "dataset"}}),
        "regional": run_program({
            **three, "location": "us-central1", "evaluation": {"rows": 0}, "samplePredictions": {"table": REGIONAL_REVIEWS},
        }),
        "europe": run_program({**base_config, "models": ["bert"], "gcp:region": "europe-west4"}),
        "no_samples": run_program({**three, "samplePredictions": {"rows": 0}}),
    }


def _copies(run: ProgramRun) -> dict[str, dict]:
    return {d.name: d.inputs for d in run.of_type(DYNAMIC) if "destination_location" in d.inputs}


def _dataset_locations(run: ProgramRun) -> dict[str, str]:
    declared = {f"{d.inputs['project']}.{d.inputs['datasetId']}": d.inputs["location"] for d in run.of_type("gcp:bigquery/dataset:Dataset")}
    return {**PUBLIC, f"{PROJECT}.reviews_uc1": "us-central1", **declared}


def _datasets_read(sql: str) -> set[str]:
    tree = parse(sql)
    connections = {id(t) for remote in tree.find_all(exp.RemoteWithConnectionModelProperty) for t in remote.find_all(exp.Table)}
    return {".".join(table_name(t).split(".")[:2]) for t in tree.find_all(exp.Table) if table_name(t).count(".") == 2 and id(t) not in connections}


def _connection_locations(sql: str) -> set[str]:
    """project.LOCATION.connection: a connection is in the location of the dataset whose model uses it."""
    return {table_name(remote.this).split(".")[1] for remote in parse(sql).find_all(exp.RemoteWithConnectionModelProperty)}


@pytest.mark.parametrize("placement", ["apart", "tutorial", "regional", "europe", "no_samples"])
def test_every_statement_and_copy_touches_only_datasets_of_its_own_location(placements: dict, placement: str) -> None:
    """BigQuery runs a job in one location: a statement that names a dataset elsewhere fails ("not found in location")."""
    run = placements[placement]
    where = _dataset_locations(run)
    for name, statement in run.statements().items():
        for dataset in _datasets_read(statement.inputs["sql"]) | _datasets_read(statement.inputs["drop_sql"]):
            assert where[dataset].lower() == statement.inputs["location"].lower(), (name, dataset)
        assert _connection_locations(statement.inputs["sql"]) <= {statement.inputs["location"].lower()}, name
    for name, copy in _copies(run).items():
        assert {where[d] for d in _datasets_read(copy["query"])} == {copy["source_location"]}, name
        assert where[".".join(copy["destination"].split(".")[:2])] == copy["destination_location"], name
        assert copy["source_location"] != copy["destination_location"], name  # a copy only where a location is crossed


def test_by_default_bert_and_all_that_queries_it_live_in_a_dataset_in_the_endpoints_region(placements: dict) -> None:
    run = placements["apart"]
    bert = {name: s.inputs for name, s in run.statements().items() if name.startswith("bert-")}
    assert set(bert) == {
        "bert-create-remote-model", "bert-sample-embeddings", "bert-search-function",
        "bert-evaluation-embeddings", "bert-sentiment-classifier", "bert-quality",
    }
    for name, inputs in bert.items():
        assert inputs["location"] == "us-central1" and inputs["target"].startswith(f"{BERT_DATASET}."), name
        assert run.depends_on(name, "bert-dataset"), name
    # The locations page's rule: a regional dataset's remote model uses an endpoint in that region.
    endpoint = SHARED_ENDPOINT.fullmatch(bert["bert-create-remote-model"]["expect"]["endpoint"])
    assert endpoint is not None and endpoint.group("region") == "us-central1"
    assert _connection_locations(bert["bert-create-remote-model"]["sql"]) == {"us-central1"}
    assert _connection_locations(run.statements()["textembedding-create-remote-model"].inputs["sql"]) == {"us"}
    assert run.named("bert-dataset").inputs["location"] == "us-central1"
    assert run.outputs["bertDataset"] == BERT_DATASET
    assert run.outputs["consoleLinks"]["bertDataset"].endswith("!2stf_models_tutorial_us_central1")
    # The other models stay where they were, and so does textembedding's connection.
    for name in ("nnlm-create-model", "textembedding-create-remote-model", "evaluation-reviews", "embedding-quality"):
        assert run.statements()[name].inputs["location"] == "US", name
    assert run.outputs["models"]["bert"] == f"{BERT_DATASET}.bert_model"
    assert run.outputs["sampleTables"]["bert"] == f"{BERT_DATASET}.bert_sample_embeddings"
    assert run.outputs["searchFunctions"]["bert"] == f"{BERT_DATASET}.search_bert"


def test_the_sample_rows_are_copied_beside_bert_before_it_embeds_them(placements: dict) -> None:
    run = placements["apart"]
    copy = _copies(run)["bert-sample-source"]
    assert (copy["project"], copy["source_location"], copy["destination_location"]) == (PROJECT, "US", "us-central1")
    assert copy["destination"] == f"{BERT_DATASET}.sample_source"
    query = parse(copy["query"])
    assert [(c.this.name, c.alias) for c in query.expressions] == [("review", "content")]
    assert table_name(query.args["from_"].this) == "bigquery-public-data.imdb.reviews"
    assert query.args["limit"].expression.name == "500"  # samplePredictions.rows (at least the paste queries' 10)
    assert run.depends_on("bert-sample-source", "bert-dataset")

    sample = run.statements()["bert-sample-embeddings"]
    inner = parse(sample.inputs["sql"]).find(exp.Predict).expression.find(exp.Select)
    assert table_name(inner.args["from_"].this) == f"{BERT_DATASET}.sample_source"
    assert inner.args["limit"].expression.name == "500"
    assert run.depends_on("bert-sample-embeddings", "bert-sample-source")
    assert len(sample.inputs["triggers"]) == 3  # the model's SQL, its deployment, and the copy: new rows re-embed
    paste = parse(run.outputs["predictQueries"]["bert"]).find(exp.Predict).expression
    assert table_name(paste.find(exp.Table)) == f"{BERT_DATASET}.sample_source" and paste.find(exp.Limit).expression.name == "10"


def test_a_small_sample_still_copies_the_ten_rows_the_paste_ready_query_embeds(base_config: dict) -> None:
    run = run_program({**base_config, "models": ["bert"], "samplePredictions": {"rows": 3}, "evaluation": {"rows": 0}})
    assert parse(_copies(run)["bert-sample-source"]["query"]).args["limit"].expression.name == "10"
    inner = parse(run.statements()["bert-sample-embeddings"].inputs["sql"]).find(exp.Predict).expression
    assert inner.find(exp.Limit).expression.name == "3"


def test_bert_is_measured_on_a_copy_of_the_reviews_and_its_figures_come_back_for_embedding_quality(placements: dict) -> None:
    run = placements["apart"]
    copies = _copies(run)
    reviews = copies["bert-evaluation-reviews"]
    assert (reviews["source_location"], reviews["destination"], reviews["destination_location"]) == (
        "US", f"{BERT_DATASET}.evaluation_reviews", "us-central1",
    )
    query = parse(reviews["query"])
    assert table_name(query.args["from_"].this) == f"{DATASET}.evaluation_reviews"
    assert [e.alias_or_name for e in query.expressions] == ["content", "positive", "split"]
    assert len(reviews["triggers"]) == 1  # the reviews' job: copied again whenever they are made again
    assert run.depends_on("bert-evaluation-reviews", "evaluation-reviews") and run.depends_on("bert-evaluation-reviews", "bert-dataset")
    embeddings = parse(run.statements()["bert-evaluation-embeddings"].inputs["sql"])
    assert table_name(embeddings.find(exp.Predict).expression.find(exp.Table)) == f"{BERT_DATASET}.evaluation_reviews"
    assert run.depends_on("bert-evaluation-embeddings", "bert-evaluation-reviews")

    row = copies["bert-quality-row"]
    assert (row["source_location"], row["destination"], row["destination_location"]) == ("us-central1", f"{DATASET}.bert_quality_copy", "US")
    assert table_name(parse(row["query"]).args["from_"].this) == f"{BERT_DATASET}.bert_quality"
    assert run.depends_on("bert-quality-row", "bert-quality") and run.depends_on("bert-quality-row", "dataset")
    quality = run.statements()["embedding-quality"]
    read = sorted(table_name(t) for t in parse(quality.inputs["sql"]).expression.find_all(exp.Table))
    assert read == sorted([f"{DATASET}.nnlm_quality", f"{DATASET}.bert_quality_copy", f"{DATASET}.textembedding_quality"])
    assert run.depends_on("embedding-quality", "bert-quality-row")
    assert len(quality.inputs["triggers"]) == 3  # one per model: BERT's is its copy's


def test_the_tutorials_placement_keeps_bert_in_the_stacks_dataset_with_nothing_copied(placements: dict) -> None:
    run = placements["tutorial"]
    assert run.of_type("gcp:bigquery/dataset:Dataset") == [run.named("dataset")]
    assert _copies(run) == {}
    remote = run.statements()["bert-create-remote-model"].inputs
    assert (remote["location"], remote["target"]) == ("US", f"{DATASET}.bert_model")
    assert _connection_locations(remote["sql"]) == {"us"}
    # The tutorial's own pairing: a US dataset over an endpoint in us-central1.
    assert SHARED_ENDPOINT.fullmatch(remote["expect"]["endpoint"]).group("region") == "us-central1"
    assert {"bertDataset", "bertConnection"}.isdisjoint(run.outputs)
    assert run.outputs["models"]["bert"] == f"{DATASET}.bert_model"


def test_a_stack_whose_location_is_the_endpoints_region_keeps_one_dataset(placements: dict) -> None:
    run = placements["regional"]
    assert [d.inputs["location"] for d in run.of_type("gcp:bigquery/dataset:Dataset")] == ["us-central1"]
    assert [d.inputs["location"] for d in run.of_type("gcp:bigquery/connection:Connection")] == ["us-central1"]
    assert _copies(run) == {}
    assert run.statements()["bert-create-remote-model"].inputs["target"] == f"{DATASET}.bert_model"
    assert {s.inputs["location"] for s in run.statements().values()} == {"us-central1"}


def test_an_endpoint_outside_the_stacks_multi_region_gets_the_rows_copied_there(placements: dict) -> None:
    run = placements["europe"]
    assert run.named("bert-dataset").inputs["datasetId"] == "tf_models_tutorial_europe_west4"
    assert {c["destination_location"] for name, c in _copies(run).items() if name != "bert-quality-row"} == {"europe-west4"}
    assert run.named("bert-vertex-connection").inputs["location"] == "europe-west4"
    assert SHARED_ENDPOINT.fullmatch(run.outputs["bertEndpoint"]).group("region") == "europe-west4"


def test_without_samples_bert_gets_no_copy_and_no_paste_ready_query(placements: dict) -> None:
    run = placements["no_samples"]
    assert "bert-sample-source" not in _copies(run)
    assert set(run.outputs["predictQueries"]) == {"nnlm", "textembedding"}  # no rows beside BERT to embed


def test_the_endpoint_is_a_shared_public_one(placements: dict) -> None:
    """BigQuery reaches only shared public endpoints: a dedicated, Private Service Connect or peered one would fail."""
    for run in placements.values():
        (endpoint,) = run.of_type("gcp:vertex/aiEndpoint:AiEndpoint")
        assert set(endpoint.inputs) == {"project", "location", "region", "name", "displayName", "description", "labels"}
        for field in ("dedicatedEndpointEnabled", "privateServiceConnectConfig", "network", "encryptionSpec"):
            assert field not in endpoint.inputs
        # What the remote model calls: the shared DNS, {region}-aiplatform.googleapis.com.
        assert SHARED_ENDPOINT.fullmatch(run.outputs["bertEndpoint"]), run.outputs["bertEndpoint"]


def test_a_corpus_using_bert_elsewhere_is_refused_before_anything_is_declared(base_config: dict) -> None:
    from tests import pulumi_harness

    corpus = {"table": "acme-data.support.tickets", "key": ["id"], "text": "body", "models": ["bert"], "schedule": "none"}
    seen: list[str] = []
    original = pulumi_harness._RecordingMonitor.RegisterResource
    pulumi_harness._RecordingMonitor.RegisterResource = lambda self, request: seen.append(request.type) or original(self, request)
    try:
        with pytest.raises(pulumi.RunError) as failure:
            run_program({**base_config, "models": ["bert"], "corpora": {"tickets": corpus}})
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    assert "bqml-text-embeddings:corpora.tickets.models: bert's remote model lives in us-central1" in str(failure.value)
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []
    # The tutorial's placement puts BERT beside the corpus: accepted.
    accepted = run_program({**base_config, "models": ["bert"], "bert": {"remoteModelLocation": "dataset"}, "corpora": {"tickets": corpus}})
    assert accepted.outputs["corpora"]["tickets"]["models"]["bert"]["table"] == f"{DATASET}.tickets_bert_embeddings"
