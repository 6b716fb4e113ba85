"""The program's answer to "which embedding?": a managed model beside the tutorial's, quality side by side, search.

Same mocks as test_program.py; every statement is parsed with BigQuery's
grammar (tests/bigquery_sql.py) and asserted by its parts, its dependencies and
its triggers.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from tests.bigquery_sql import Evaluate, parse, table_name
from tests.conftest import PROJECT
from tests.pulumi_harness import FAKE_SERVICE_ACCOUNT, REPORT_ROWS, ProgramRun, run_program

DATASET = f"{PROJECT}.tf_models_tutorial"
BERT_DATASET = f"{PROJECT}.tf_models_tutorial_us_central1"  # BERT's own, in gcp:region (bert.remoteModelLocation)


def _home(model: str) -> str:
    """The dataset a model, its sample, search and evaluation live in."""
    return BERT_DATASET if model == "bert" else DATASET
FOUR = ("nnlm", "swivel", "bert", "textembedding")


def _options(tree: exp.Expression) -> dict[str, str]:
    return {
        p.name.lower(): p.args["value"].sql(dialect="bigquery").strip("'")
        for p in tree.find(exp.Properties).expressions
        if type(p) is exp.Property
    }


def _statement(run: ProgramRun, name: str) -> tuple[exp.Expression, dict]:
    declared = run.statements()[name]
    return parse(declared.inputs["sql"]), declared.inputs


def test_textembedding_is_a_remote_model_over_the_managed_endpoint(runs: dict) -> None:
    for run, endpoint in ((runs["four"], "text-embedding-005"), (runs["managed"], "gemini-embedding-001")):
        tree, inputs = _statement(run, "textembedding-create-remote-model")
        assert isinstance(tree, exp.Create) and tree.args["kind"] == "MODEL" and tree.args["replace"]
        assert table_name(tree.this) == f"{DATASET}.textembedding_model"
        remote = tree.find(exp.RemoteWithConnectionModelProperty)
        assert remote is not None and table_name(remote.this) == f"{PROJECT}.us.tf_models_tutorial_vertex"
        assert _options(tree) == {"endpoint": endpoint}
        assert inputs["wait_for_iam"] is True and inputs["target_kind"] == "MODEL"
        for dependency in ("connection-may-call-vertex", "vertex-connection", "api-aiplatform", "dataset"):
            assert run.depends_on("textembedding-create-remote-model", dependency), dependency


def test_the_managed_model_alone_builds_nothing_and_uploads_nothing(runs: dict) -> None:
    run = runs["managed"]
    assert run.of_type("gcp:storage/bucketObject:BucketObject") == []
    assert run.of_type("gcp:vertex/aiEndpoint:AiEndpoint") == []
    assert not any("artifact_uri" in d.inputs or "machine_type" in d.inputs for d in run.declared.values())
    assert {d.name for d in run.of_type("gcp:projects/service:Service")} == {
        "api-bigquery", "api-storage", "api-bigqueryconnection", "api-aiplatform",
    }
    assert run.outputs["models"] == {"textembedding": f"{DATASET}.textembedding_model"}
    assert run.outputs["connection"] == f"{PROJECT}.us.tf_models_tutorial_vertex"


def test_bert_and_textembedding_each_use_their_datasets_connection(runs: dict, base_config: dict) -> None:
    run = runs["four"]
    assert {d.name: d.inputs["location"] for d in run.of_type("gcp:bigquery/connection:Connection")} == {
        "vertex-connection": "US", "bert-vertex-connection": "us-central1",
    }
    assert len(run.of_type("gcp:projects/iAMMember:IAMMember")) == 2
    assert f"REMOTE WITH CONNECTION `{PROJECT}.us.tf_models_tutorial_vertex`" in run.statements()["textembedding-create-remote-model"].inputs["sql"]
    assert f"REMOTE WITH CONNECTION `{PROJECT}.us-central1.tf_models_tutorial_us_central1_vertex`" in run.statements()["bert-create-remote-model"].inputs["sql"]
    assert run.outputs["connection"] == f"{PROJECT}.us.tf_models_tutorial_vertex"
    assert run.outputs["bertConnection"] == f"{PROJECT}.us-central1.tf_models_tutorial_us_central1_vertex"

    # The tutorial's placement: one dataset, one connection and one grant for both.
    tutorial = run_program({**base_config, "models": list(FOUR), "bert": {"remoteModelLocation": "dataset"}})
    assert [d.name for d in tutorial.of_type("gcp:bigquery/connection:Connection")] == ["vertex-connection"]
    (grant,) = tutorial.of_type("gcp:projects/iAMMember:IAMMember")
    assert grant.inputs == {"project": PROJECT, "role": "roles/aiplatform.user", "member": f"serviceAccount:{FAKE_SERVICE_ACCOUNT}"}
    for remote in ("bert-create-remote-model", "textembedding-create-remote-model"):
        assert tutorial.depends_on(remote, "connection-may-call-vertex")
        assert f"REMOTE WITH CONNECTION `{PROJECT}.us.tf_models_tutorial_vertex`" in tutorial.statements()[remote].inputs["sql"]
    assert "bertConnection" not in tutorial.outputs and "bertDataset" not in tutorial.outputs


EXPECTED_STATUS = {"nnlm": None, "swivel": None, "bert": "remote_model_status", "textembedding": "status"}


@pytest.mark.parametrize("model", FOUR)
def test_every_sample_table_leads_with_content_and_embedding(runs: dict, model: str) -> None:
    run = runs["four"]
    tree, inputs = _statement(run, f"{model}-sample-embeddings")
    assert isinstance(tree, exp.Create) and tree.args["kind"] == "TABLE"
    assert table_name(tree.this) == f"{_home(model)}.{model}_sample_embeddings"
    columns = [e.alias_or_name for e in tree.expression.expressions]
    status = EXPECTED_STATUS[model]
    assert columns[:2] == ["content", "embedding"]
    assert columns[2:] == ([status, "*"] if status else ["*"])  # failed rows keep their status
    star = tree.expression.expressions[-1]
    assert {c.name for c in star.args["except_"]} >= {"content", "embedding" if model in ("bert", "textembedding") else "text_embedding"}
    if model == "textembedding":
        generate = tree.find(exp.GenerateEmbedding)
        assert generate is not None and tree.find(exp.Predict) is None
        assert table_name(generate.this) == f"{DATASET}.textembedding_model"
        assert generate.args["params_struct"].sql(dialect="bigquery") == "STRUCT('RETRIEVAL_DOCUMENT' AS task_type)"
        assert "statistics" in {c.name for c in star.args["except_"]}
    else:
        assert table_name(tree.find(exp.Predict).this) == f"{_home(model)}.{model}_model"
    assert inputs["triggers"][0] == run.statements()[f"{model}-create-{'model' if model in ('nnlm', 'swivel') else 'remote-model'}"].inputs["sql"]


def test_the_evaluation_reviews_are_balanced_labelled_and_deterministic(runs: dict) -> None:
    tree, inputs = _statement(runs["four"], "evaluation-reviews")
    assert table_name(tree.this) == f"{DATASET}.evaluation_reviews"
    select = tree.expression
    assert table_name(select.args["from_"].this) == "bigquery-public-data.imdb.reviews"
    where = select.args["where"].sql(dialect="bigquery")
    assert "split IN ('train', 'test')" in where and "label IN ('Positive', 'Negative')" in where
    qualify = select.args["qualify"].this
    assert isinstance(qualify, exp.LTE) and qualify.expression.name == "500"  # 1000 rows a split, half a label
    window = qualify.this
    assert [p.name for p in window.args["partition_by"]] == ["split", "label"]
    assert window.args["order"].sql(dialect="bigquery") == "ORDER BY FARM_FINGERPRINT(review), review"
    assert [e.alias_or_name for e in select.expressions] == ["content", "positive", "split"]
    assert runs["four"].depends_on("evaluation-reviews", "dataset")
    assert inputs["triggers"] == []


@pytest.mark.parametrize("model", FOUR)
def test_each_model_is_measured_in_order_after_its_model(runs: dict, model: str) -> None:
    run = runs["four"]
    created = f"{model}-create-{'model' if model in ('nnlm', 'swivel') else 'remote-model'}"
    embed_tree, embed = _statement(run, f"{model}-evaluation-embeddings")
    assert table_name(embed_tree.this) == f"{_home(model)}.{model}_evaluation_embeddings"
    assert [e.alias_or_name for e in embed_tree.expression.expressions][:2] == ["content", "embedding"]
    source = embed_tree.find(exp.GenerateEmbedding) if model == "textembedding" else embed_tree.find(exp.Predict)
    assert table_name(source.expression.find(exp.Table)) == f"{_home(model)}.evaluation_reviews"  # BERT: a copy beside it
    if model == "textembedding":
        assert "'CLASSIFICATION' AS task_type" in source.args["params_struct"].sql(dialect="bigquery")
    assert embed["triggers"][0] == run.statements()[created].inputs["sql"]  # re-measured when the model changes
    assert run.depends_on(f"{model}-evaluation-embeddings", created)
    assert run.depends_on(f"{model}-evaluation-embeddings", "evaluation-reviews")
    if model in ("bert", "textembedding"):
        grant = "bert-connection-may-call-vertex" if model == "bert" else "connection-may-call-vertex"
        assert run.depends_on(f"{model}-evaluation-embeddings", grant)

    classifier_tree, classifier = _statement(run, f"{model}-sentiment-classifier")
    assert table_name(classifier_tree.this) == f"{_home(model)}.{model}_sentiment_model"
    assert _options(classifier_tree) == {
        "model_type": "LOGISTIC_REG",
        "input_label_cols": "['positive']",
        "data_split_method": "NO_SPLIT",
    }
    training = classifier_tree.expression
    assert [e.alias_or_name for e in training.expressions] == ["embedding", "positive"]
    assert table_name(training.args["from_"].this) == f"{_home(model)}.{model}_evaluation_embeddings"
    assert "split = 'train'" in training.args["where"].sql(dialect="bigquery")
    assert run.depends_on(f"{model}-sentiment-classifier", f"{model}-evaluation-embeddings")
    assert len(classifier["triggers"]) == 1  # the embeddings' job: a new table retrains

    quality_tree, quality = _statement(run, f"{model}-quality")
    assert table_name(quality_tree.this) == f"{_home(model)}.{model}_quality"
    columns = [e.alias_or_name for e in quality_tree.expression.expressions]
    assert columns == ["model", "dims", "rows", "failed_rows", "accuracy", "precision", "recall", "f1_score", "roc_auc", "log_loss", "measured_at"]
    evaluate = quality_tree.find(Evaluate)
    assert table_name(evaluate.this) == f"{_home(model)}.{model}_sentiment_model"
    assert "split = 'test'" in evaluate.expression.sql(dialect="bigquery")
    assert quality_tree.expression.expressions[0].this.name == model
    assert quality_tree.expression.expressions[2].this.name == "1000"
    assert run.depends_on(f"{model}-quality", f"{model}-sentiment-classifier")
    assert len(quality["triggers"]) == 1


def test_embedding_quality_stacks_every_model_and_is_read_back(runs: dict) -> None:
    run = runs["four"]
    tree, inputs = _statement(run, "embedding-quality")
    assert table_name(tree.this) == f"{DATASET}.embedding_quality"
    # BERT's figures are measured beside it in gcp:region and read here from their copy.
    copied = {m: f"{DATASET}.{m}_quality_copy" if m == "bert" else f"{DATASET}.{m}_quality" for m in FOUR}
    assert sorted(table_name(t) for t in tree.expression.find_all(exp.Table)) == sorted(copied.values())
    assert isinstance(tree.expression, exp.Union) and not tree.expression.args.get("distinct")
    for model in FOUR:
        assert run.depends_on("embedding-quality", f"{model}-quality")
    assert len(inputs["triggers"]) == len(FOUR)
    report = parse(inputs["report_sql"])
    assert table_name(report.args["from_"].this) == f"{DATASET}.embedding_quality"
    # The stack output is the rows read back, keyed by model.
    assert run.outputs["embeddingQuality"] == {row["model"]: {k: v for k, v in row.items() if k != "model"} for row in REPORT_ROWS}
    assert run.outputs["embeddingQualityTable"] == f"{DATASET}.embedding_quality"


@pytest.mark.parametrize("model", FOUR)
def test_search_embeds_the_query_with_the_same_model(runs: dict, model: str) -> None:
    run = runs["four"]
    search = parse(run.outputs["searchQueries"][model])
    vector = search.find(exp.VectorSearch)
    base = vector.this
    if EXPECTED_STATUS[model]:  # rows the model failed have no vector to compare
        assert table_name(base.find(exp.Table)) == f"{_home(model)}.{model}_sample_embeddings"
        assert base.find(exp.Where).sql(dialect="bigquery") == f"WHERE IFNULL({EXPECTED_STATUS[model]}, '') = ''"
    else:
        assert table_name(base) == f"{_home(model)}.{model}_sample_embeddings"
    assert vector.args["column_to_search"].name == "embedding" and vector.args["query_column_to_search"].name == "embedding"
    assert vector.args["top_k"].expression.sql(dialect="bigquery") == "@k"
    assert vector.args["distance_type"].expression.name == "COSINE"
    embedded = vector.args["query_table"]
    source = embedded.find(exp.GenerateEmbedding) if model == "textembedding" else embedded.find(exp.Predict)
    assert table_name(source.this) == f"{_home(model)}.{model}_model"
    assert source.expression.sql(dialect="bigquery") == "(SELECT @query AS content)"
    if model == "textembedding":
        assert "'RETRIEVAL_QUERY' AS task_type" in source.args["params_struct"].sql(dialect="bigquery")
    assert [o.this.name for o in search.args["order"].expressions] == ["distance"]


@pytest.mark.parametrize("model", FOUR)
def test_a_table_function_wraps_the_same_search(runs: dict, model: str) -> None:
    run = runs["four"]
    tree, inputs = _statement(run, f"{model}-search-function")
    assert isinstance(tree, exp.Create) and tree.args["kind"] == "TABLE FUNCTION" and tree.args["replace"]
    assert table_name(tree.this.this) == f"{_home(model)}.search_{model}"
    assert [(p.name, p.args["kind"].sql(dialect="bigquery")) for p in tree.this.expressions] == [("query_text", "STRING"), ("k", "INT64")]
    vector = tree.find(exp.VectorSearch)
    assert vector.args["top_k"].expression.name == "k"
    assert "SELECT query_text AS content" in vector.args["query_table"].sql(dialect="bigquery")
    drop = parse(inputs["drop_sql"])
    assert isinstance(drop, exp.Drop) and drop.args["kind"] == "TABLE FUNCTION" and drop.args["exists"]
    assert (inputs["target_kind"], inputs["target"]) == ("TABLE FUNCTION", f"{_home(model)}.search_{model}")
    assert run.depends_on(f"{model}-search-function", f"{model}-sample-embeddings")
    assert run.outputs["searchFunctions"][model] == f"{_home(model)}.search_{model}"


def test_every_object_made_has_a_drop_of_its_kind(runs: dict) -> None:
    for run in runs.values():
        for declared in run.statements().values():
            tree, drop = parse(declared.inputs["sql"]), parse(declared.inputs["drop_sql"])
            assert isinstance(drop, exp.Drop) and drop.args["exists"]
            assert drop.args["kind"] == tree.args["kind"] == declared.inputs["target_kind"]
            made = tree.this.this if declared.inputs["target_kind"] == "TABLE FUNCTION" else tree.this
            assert table_name(made) == declared.inputs["target"]


def test_the_paste_ready_queries_embed_ten_rows_with_each_models_function(runs: dict) -> None:
    for model, query in runs["four"].outputs["predictQueries"].items():
        tree = parse(query)
        assert [e.alias_or_name for e in tree.expressions][:2] == ["content", "embedding"]
        source = tree.find(exp.GenerateEmbedding) if model == "textembedding" else tree.find(exp.Predict)
        assert table_name(source.this) == f"{_home(model)}.{model}_model"
        assert source.expression.find(exp.Limit).expression.name == "10"
