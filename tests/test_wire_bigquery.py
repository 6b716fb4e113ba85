"""The SQL statement resource through google.cloud.bigquery.Client, on the wire, against a BigQuery server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bqml_text_embeddings import retry
from bqml_text_embeddings.bigquery import jobs as bigquery_jobs
from bqml_text_embeddings.bigquery.statement import BigQueryStatementProvider, statement_id
from tests.wire.bigquery_server import DROPPED, BigQueryServer, http_error
from tests.wire.clients import bigquery_factory

PROJECT = "my-proj"
MODEL = f"{PROJECT}.tf_models_tutorial.nnlm_model"
TABLE = f"{PROJECT}.tf_models_tutorial.nnlm_sample_embeddings"
PATH = "gs://models-bucket/nnlm_model/abc/*"
CREATE = f"CREATE OR REPLACE MODEL `{MODEL}`\nOPTIONS (\n  model_type = 'TENSORFLOW',\n  model_path = '{PATH}');"
DROP = f"DROP MODEL IF EXISTS `{MODEL}`;"
PROPS = {
    "project": PROJECT,
    "location": "US",
    "sql": CREATE,
    "drop_sql": DROP,
    "target_kind": "MODEL",
    "target": MODEL,
    "expect": {"modelUri": PATH},
    "wait_for_iam": False,
    "triggers": [],
}
SAMPLE = (
    f"CREATE OR REPLACE TABLE `{TABLE}` AS\nSELECT *\nFROM ML.PREDICT(\n  MODEL `{MODEL}`,\n"
    "  (SELECT review AS content FROM `bigquery-public-data.imdb.reviews` LIMIT 500));"
)
SAMPLE_PROPS = {**PROPS, "sql": SAMPLE, "drop_sql": f"DROP TABLE IF EXISTS `{TABLE}`;", "target_kind": "TABLE", "target": TABLE, "expect": {}}
ENDPOINT = "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1/endpoints/1234567890"
REMOTE = (
    f"CREATE OR REPLACE MODEL `{PROJECT}.tf_models_tutorial.bert_model`\nINPUT(content STRING)\nOUTPUT(embedding ARRAY<FLOAT64>)\n"
    f"REMOTE WITH CONNECTION `{PROJECT}.us.tf_models_tutorial_vertex`\nOPTIONS (\n  ENDPOINT = '{ENDPOINT}');"
)
REMOTE_PROPS = {
    **PROPS,
    "sql": REMOTE,
    "drop_sql": f"DROP MODEL IF EXISTS `{PROJECT}.tf_models_tutorial.bert_model`;",
    "target": f"{PROJECT}.tf_models_tutorial.bert_model",
    "expect": {"endpoint": ENDPOINT},
    "wait_for_iam": True,
}
ENDPOINT_DENIED = (
    "Access Denied: bqcx-1-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com does not have the permission "
    "to access or use the endpoint. Please grant the Vertex AI user role"
)


@pytest.fixture
def bq() -> Iterator[BigQueryServer]:
    server = BigQueryServer(PROJECT).start()
    server.add_dataset("tf_models_tutorial")
    yield server
    server.stop()
    assert server.problems == [], "requests the BigQuery API would not accept"


class Wired:
    """The provider with the real client factory pointed at the server, and our own sleeps recorded."""

    def __init__(self, server: BigQueryServer) -> None:
        self.sleeps: list[float] = []
        self.provider = BigQueryStatementProvider(client_factory=bigquery_factory(server.url), sleep=self.sleeps.append)


# --- create, update, delete ---------------------------------------------------------------


def test_create_inserts_a_standard_sql_job_in_the_location_and_waits_for_it(bq: BigQueryServer) -> None:
    result = Wired(bq).provider.create(dict(PROPS))
    (insert,) = bq.called("jobs.insert")
    config = insert["body"]["configuration"]
    assert config["query"] == {"query": CREATE, "useLegacySql": False}
    assert insert["body"]["jobReference"]["location"] == "US"
    assert insert["body"]["jobReference"]["projectId"] == PROJECT
    assert result.outs["job_id"] == insert["body"]["jobReference"]["jobId"]
    assert result.id == statement_id(DROP)
    assert bq.called("jobs.getQueryResults"), "the provider must wait for the job"
    assert bq.models[MODEL]["trainingRuns"][0]["trainingOptions"]["modelUri"] == PATH


def test_update_runs_the_new_statement(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    old = provider.create(dict(PROPS)).outs
    new_path = PATH.replace("abc", "def")
    provider.update("id", old, {**PROPS, "sql": CREATE.replace(PATH, new_path), "expect": {"modelUri": new_path}})
    assert bq.executed() == [CREATE, CREATE.replace(PATH, new_path)]
    assert bq.models[MODEL]["trainingRuns"][0]["trainingOptions"]["modelUri"] == new_path


def test_delete_drops_the_model(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    provider.create(dict(PROPS))
    provider.delete("id", dict(PROPS))
    assert bq.executed()[-1] == DROP and MODEL not in bq.models


def test_a_drop_in_a_dataset_already_gone_counts_as_dropped(bq: BigQueryServer) -> None:
    bq.datasets.clear()  # 404 notFound from the job
    Wired(bq).provider.delete("id", dict(PROPS))
    assert bq.executed() == [DROP]


def test_a_refused_drop_is_an_error(bq: BigQueryServer) -> None:
    bq.fail_next_job("accessDenied", "Access Denied: Dataset my-proj:tf_models_tutorial: Permission bigquery.models.delete denied")
    with pytest.raises(bigquery_jobs.StatementError, match=r"Permission bigquery\.models\.delete denied"):
        Wired(bq).provider.delete("id", dict(PROPS))


# --- read: drift seen by pulumi refresh ----------------------------------------------------


def test_read_of_an_unchanged_model_and_table_changes_nothing(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    for props in (PROPS, SAMPLE_PROPS):
        created = provider.create(dict(props))
        read = provider.read(created.id, dict(created.outs))
        assert read.id == created.id and read.outs == created.outs
        assert not provider.diff(read.id, read.outs, dict(props)).changes
    assert [name for name, _ in bq.calls if name in ("models.get", "tables.get")] == ["models.get", "tables.get"]


def test_a_model_dropped_by_hand_is_gone_and_made_again(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    created = provider.create(dict(PROPS))
    del bq.models[MODEL]  # DROP MODEL in the console
    read = provider.read(created.id, dict(created.outs))
    assert read.id == "" and read.outs == {}
    provider.create(dict(PROPS))  # what the next `pulumi up` does for a resource no longer in the state
    assert MODEL in bq.models


def test_a_sample_table_deleted_by_hand_is_gone(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    created = provider.create(dict(SAMPLE_PROPS))
    del bq.tables[TABLE]
    assert provider.read(created.id, dict(created.outs)).id == ""


def test_a_model_reimported_by_hand_is_changed_and_restored(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    created = provider.create(dict(PROPS))
    Wired(bq).provider.create({**PROPS, "sql": CREATE.replace(PATH, "gs://elsewhere/model/*")})  # someone else's CREATE OR REPLACE
    read = provider.read(created.id, dict(created.outs))
    assert read.id == created.id
    assert read.outs["drift"] == f"imported from gs://elsewhere/model/*, not {PATH}"
    diff = provider.diff(read.id, read.outs, dict(PROPS))
    assert diff.changes and diff.replaces == []  # re-run in place
    restored = provider.update(read.id, read.outs, dict(PROPS))
    assert "drift" not in restored.outs
    assert bq.models[MODEL]["trainingRuns"][0]["trainingOptions"]["modelUri"] == PATH


def test_a_remote_model_pointed_at_another_endpoint_is_changed(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    created = provider.create(dict(REMOTE_PROPS))
    assert bq.models[REMOTE_PROPS["target"]]["remoteModelInfo"]["endpoint"] == ENDPOINT
    assert provider.read(created.id, dict(created.outs)).outs == created.outs
    bq.models[REMOTE_PROPS["target"]]["remoteModelInfo"]["endpoint"] = ENDPOINT.replace("1234567890", "999")
    assert provider.read(created.id, dict(created.outs)).outs["drift"].startswith("serves ")


# --- faults on the wire --------------------------------------------------------------------


def test_rate_limits_and_a_dropped_connection_on_insert_are_retried_by_the_client(bq: BigQueryServer) -> None:
    bq.inject("jobs.insert", http_error(429, "rateLimitExceeded", "Exceeded rate limits: too many api requests"), DROPPED)
    Wired(bq).provider.create(dict(PROPS))
    assert len(bq.called("jobs.insert")) == 3
    assert len(bq.jobs) == 1 and MODEL in bq.models  # one job, not three


def test_backend_errors_while_waiting_are_retried(bq: BigQueryServer) -> None:
    bq.inject("jobs.getQueryResults", http_error(503, "backendError", "Backend error. Job aborted."))
    bq.inject("jobs.get", http_error(500, "internalError", "An internal error occurred"))
    result = Wired(bq).provider.create(dict(PROPS))
    assert result.outs["job_id"] in bq.jobs and bq.faults_injected == 2


def test_a_job_that_failed_for_a_backend_reason_is_run_again(bq: BigQueryServer) -> None:
    bq.fail_next_job("backendError", "Backend error. The job was aborted.")
    result = Wired(bq).provider.create(dict(PROPS))
    assert len(bq.called("jobs.insert")) == 2 and MODEL in bq.models
    assert result.outs["job_id"] == bq.called("jobs.insert")[-1]["body"]["jobReference"]["jobId"]


def test_an_invalid_query_fails_at_once_with_bigquerys_message_and_the_statement(bq: BigQueryServer) -> None:
    message = "Error while reading data, error message: model_path gs://models-bucket/nnlm_model/abc/* does not exist"
    bq.fail_next_job("invalidQuery", message)
    wired = Wired(bq)
    with pytest.raises(bigquery_jobs.StatementError) as failure:
        wired.provider.create(dict(PROPS))
    text = str(failure.value)
    assert text.startswith(f"BigQuery rejected the statement: {message}")
    assert "reason: invalidQuery" in text and f"Job ID: {bq.called('jobs.insert')[0]['body']['jobReference']['jobId']}" in text
    assert text.endswith(f"--- statement ---\n{CREATE}")
    assert len(bq.called("jobs.insert")) == 1 and wired.sleeps == []


def test_a_grant_not_yet_propagated_is_waited_out_for_a_remote_model(bq: BigQueryServer) -> None:
    for _ in range(2):
        bq.fail_next_job("accessDenied", ENDPOINT_DENIED)
    wired = Wired(bq)
    wired.provider.create(dict(REMOTE_PROPS))
    assert len(bq.called("jobs.insert")) == 3
    assert wired.sleeps == [retry.IAM_PROPAGATION.initial, retry.IAM_PROPAGATION.initial * 2]


def test_permission_errors_are_not_waited_out_elsewhere(bq: BigQueryServer) -> None:
    bq.fail_next_job("accessDenied", ENDPOINT_DENIED)
    wired = Wired(bq)
    with pytest.raises(bigquery_jobs.StatementError, match="BigQuery rejected the statement: Access Denied"):
        wired.provider.create({**REMOTE_PROPS, "wait_for_iam": False})
    assert wired.sleeps == []


def test_a_read_through_a_transient_error_still_answers(bq: BigQueryServer) -> None:
    provider = Wired(bq).provider
    created = provider.create(dict(PROPS))
    bq.inject("models.get", http_error(503, "backendError", "Visibility check was unavailable"), DROPPED)
    assert provider.read(created.id, dict(created.outs)).outs == created.outs
    assert len(bq.called("models.get")) == 3


# --- table functions and read-back reports (search and embedding_quality) -------------------

FUNCTION = f"{PROJECT}.tf_models_tutorial.search_nnlm"
FUNCTION_PROPS = {
    **PROPS,
    "sql": (
        f"CREATE OR REPLACE TABLE FUNCTION `{FUNCTION}`(query_text STRING, k INT64) AS (\n"
        "SELECT base.content, distance\nFROM VECTOR_SEARCH(\n"
        f"  TABLE `{TABLE}`,\n  'embedding',\n"
        f"  (SELECT content, text_embedding AS embedding FROM ML.PREDICT(MODEL `{MODEL}`, (SELECT query_text AS content))),\n"
        "  'embedding',\n  top_k => k,\n  distance_type => 'COSINE')\n);"
    ),
    "drop_sql": f"DROP TABLE FUNCTION IF EXISTS `{FUNCTION}`;",
    "target_kind": "TABLE FUNCTION",
    "target": FUNCTION,
    "expect": {},
}
QUALITY = f"{PROJECT}.tf_models_tutorial.embedding_quality"
QUALITY_PROPS = {
    **PROPS,
    "sql": f"CREATE OR REPLACE TABLE `{QUALITY}` AS\nSELECT * FROM `{PROJECT}.tf_models_tutorial.nnlm_quality`;",
    "drop_sql": f"DROP TABLE IF EXISTS `{QUALITY}`;",
    "target_kind": "TABLE",
    "target": QUALITY,
    "expect": {},
    "report_sql": f"SELECT * FROM `{QUALITY}` ORDER BY model",
}
QUALITY_FIELDS = [
    {"name": "model", "type": "STRING", "mode": "NULLABLE"},
    {"name": "dims", "type": "INTEGER", "mode": "NULLABLE"},
    {"name": "rows", "type": "INTEGER", "mode": "NULLABLE"},
    {"name": "accuracy", "type": "FLOAT", "mode": "NULLABLE"},
    {"name": "roc_auc", "type": "FLOAT", "mode": "NULLABLE"},
    {"name": "measured_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
]
QUALITY_ROWS = [
    {"model": "nnlm", "dims": 50, "rows": 1000, "accuracy": 0.812, "roc_auc": 0.889, "measured_at": "2026-11-25T09:00:00+00:00"},
    {"model": "swivel", "dims": 20, "rows": 1000, "accuracy": 0.741, "roc_auc": 0.805, "measured_at": "2026-11-25T09:00:01+00:00"},
]


def test_a_table_function_is_made_read_and_dropped(bq: BigQueryServer) -> None:
    wired = Wired(bq)
    created = wired.provider.create(dict(FUNCTION_PROPS))
    assert FUNCTION in bq.routines and bq.routines[FUNCTION]["routineType"] == "TABLE_VALUED_FUNCTION"
    assert [a["name"] for a in bq.routines[FUNCTION]["arguments"]] == ["query_text", "k"]
    unchanged = wired.provider.read(created.id, created.outs)
    assert unchanged.id == created.id and unchanged.outs == created.outs
    assert bq.called("routines.get")[-1]["params"]["routineId"] == "search_nnlm"
    wired.provider.delete(created.id, created.outs)
    assert bq.executed()[-1] == FUNCTION_PROPS["drop_sql"] and FUNCTION not in bq.routines


def test_a_table_function_dropped_by_hand_is_gone(bq: BigQueryServer) -> None:
    wired = Wired(bq)
    created = wired.provider.create(dict(FUNCTION_PROPS))
    bq.routines.pop(FUNCTION)
    assert wired.provider.read(created.id, created.outs).id == ""


def test_the_report_is_read_back_through_the_client_and_refreshed_on_read(bq: BigQueryServer) -> None:
    wired = Wired(bq)
    bq.give_rows(QUALITY, QUALITY_FIELDS, QUALITY_ROWS)
    created = wired.provider.create(dict(QUALITY_PROPS))
    # The statement, then the report query: rows decoded by the client (ints, floats, timestamps).
    assert bq.executed() == [QUALITY_PROPS["sql"], QUALITY_PROPS["report_sql"]]
    assert created.outs["report"] == QUALITY_ROWS
    assert isinstance(created.outs["report"][0]["dims"], int) and isinstance(created.outs["report"][0]["accuracy"], float)
    # A refresh reads the figures again, as BigQuery has them now.
    bq.give_rows(QUALITY, QUALITY_FIELDS, QUALITY_ROWS[:1])
    refreshed = wired.provider.read(created.id, created.outs)
    assert refreshed.id == created.id and refreshed.outs["report"] == QUALITY_ROWS[:1]


def test_a_report_through_a_rate_limit_still_answers(bq: BigQueryServer) -> None:
    wired = Wired(bq)
    bq.give_rows(QUALITY, QUALITY_FIELDS, QUALITY_ROWS)
    created = wired.provider.create(dict(QUALITY_PROPS))
    bq.inject("jobs.insert", http_error(429, "rateLimitExceeded", "Exceeded rate limits: too many api requests per user"))
    assert wired.provider.read(created.id, created.outs).outs["report"] == QUALITY_ROWS
    assert bq.faults_injected == 1


def test_a_failed_report_query_is_an_error_naming_the_query(bq: BigQueryServer) -> None:
    wired = Wired(bq)
    created = wired.provider.create(dict(QUALITY_PROPS))
    bq.tables.pop(QUALITY)
    bq.add_dataset("tf_models_tutorial")
    with pytest.raises(bigquery_jobs.StatementError, match=r"(?s)Not found: Table .*--- query ---\nSELECT \* FROM"):
        bigquery_jobs.rows(bigquery_factory(bq.url)(PROJECT, "US"), QUALITY_PROPS["report_sql"], "US")
    assert wired.provider.read(created.id, created.outs).id == ""  # gone wins over the report
