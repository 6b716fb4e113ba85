"""Rows carried across locations (RowCopy) through google.cloud.bigquery.Client, on the wire.

The query runs in the source's location, its rows come back through the client,
and a load job uploads them (multipart, or resumable from 5 MiB) into the
destination's location. The server refuses any job that touches a dataset in
another location than its own, as BigQuery does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bqml_text_embeddings.bigquery import jobs as bigquery_jobs
from bqml_text_embeddings.bigquery.row_copy import RowCopyProvider, copy_id
from tests.wire.bigquery_server import DROPPED, BigQueryServer, http_error
from tests.wire.clients import bigquery_factory

PROJECT = "my-proj"
US, REGION = "US", "us-central1"
SOURCE = f"{PROJECT}.tf_models_tutorial.evaluation_reviews"
COPY = f"{PROJECT}.tf_models_tutorial_us_central1.evaluation_reviews"
QUERY = f"SELECT content, positive, split FROM `{SOURCE}`"
FIELDS = [{"name": "content", "type": "STRING"}, {"name": "positive", "type": "BOOLEAN"}, {"name": "split", "type": "STRING"}]
REVIEWS = [
    {"content": "A quiet, patient film; 'Ménage' earns its ending.", "positive": True, "split": "train"},
    {"content": "Two hours I will not get back.\nNot even the score helps.", "positive": False, "split": "test"},
    {"content": None, "positive": False, "split": "test"},
]
PROPS = {
    "project": PROJECT,
    "source_location": US,
    "query": QUERY,
    "destination": COPY,
    "destination_location": REGION,
    "triggers": ["job_reviews_1"],
}


@pytest.fixture
def bq() -> Iterator[BigQueryServer]:
    server = BigQueryServer(PROJECT).start()
    server.add_dataset("tf_models_tutorial", US)
    server.add_dataset("tf_models_tutorial_us_central1", REGION)
    server.add_table(SOURCE, US)
    server.give_rows(SOURCE, FIELDS, REVIEWS)
    yield server
    server.stop()
    assert server.problems == [], "requests the BigQuery API would not accept"


def provider(server: BigQueryServer) -> RowCopyProvider:
    return RowCopyProvider(client_factory=bigquery_factory(server.url))


def loads(server: BigQueryServer) -> list[dict]:
    return [job for job in server.jobs.values() if "load" in job["configuration"]]


def _rows_back(server: BigQueryServer, table: str, location: str) -> list[dict]:
    return bigquery_jobs.rows(bigquery_factory(server.url)(PROJECT, location), f"SELECT * FROM `{table}`", location)


# --- create, read, update, delete --------------------------------------------------------


def test_the_rows_are_queried_where_they_live_and_loaded_where_the_model_lives(bq: BigQueryServer) -> None:
    created = provider(bq).create(dict(PROPS))
    (query,) = bq.called("jobs.insert")
    assert query["body"]["jobReference"]["location"] == US
    assert query["body"]["configuration"]["query"] == {"query": QUERY, "useLegacySql": False}
    (load,) = loads(bq)
    assert load["jobReference"]["location"] == REGION
    config = load["configuration"]["load"]
    assert config["destinationTable"] == {"projectId": PROJECT, "datasetId": "tf_models_tutorial_us_central1", "tableId": "evaluation_reviews"}
    assert (config["sourceFormat"], config["writeDisposition"]) == ("NEWLINE_DELIMITED_JSON", "WRITE_TRUNCATE")
    assert [(f["name"], f["type"]) for f in config["schema"]["fields"]] == [("content", "STRING"), ("positive", "BOOLEAN"), ("split", "STRING")]
    # Sent as the rows were read: newlines and non-ASCII text intact, NULL kept.
    assert [json.loads(line) for line in bq.loaded[load["jobReference"]["jobId"]].decode().splitlines()] == REVIEWS
    assert [call["args"]["uploadType"] for call in bq.called("jobs.upload")] == ["multipart"]
    assert created.id == copy_id(COPY)
    assert created.outs == {**PROPS, "job_id": load["jobReference"]["jobId"], "rows": 3}
    assert bq.tables[COPY]["location"] == REGION and bq.tables[COPY]["numRows"] == "3"
    assert _rows_back(bq, COPY, REGION) == REVIEWS  # a query in the region reads the copy


def test_timestamps_integers_and_floats_come_back_as_they_were(bq: BigQueryServer) -> None:
    """BERT's row of figures travels back from the region to embedding_quality in US."""
    measured = f"{PROJECT}.tf_models_tutorial_us_central1.bert_quality"
    row = {"model": "bert", "dims": 768, "rows": 1000, "failed_rows": 0, "accuracy": 0.87, "measured_at": "2026-11-25T09:00:00+00:00"}
    bq.add_table(measured, REGION)
    bq.give_rows(
        measured,
        [{"name": "model", "type": "STRING"}, {"name": "dims", "type": "INTEGER"}, {"name": "rows", "type": "INTEGER"},
         {"name": "failed_rows", "type": "INTEGER"}, {"name": "accuracy", "type": "FLOAT"}, {"name": "measured_at", "type": "TIMESTAMP"}],
        [row],
    )
    back = f"{PROJECT}.tf_models_tutorial.bert_quality_copy"
    props = {**PROPS, "source_location": REGION, "query": f"SELECT * FROM `{measured}`", "destination": back, "destination_location": US}
    assert provider(bq).create(props).outs["rows"] == 1
    assert _rows_back(bq, back, US) == [row]


def test_five_mebibytes_and_more_go_up_resumably(bq: BigQueryServer) -> None:
    many = [{"content": f"review {n} " + "x" * 2_000, "positive": n % 2 == 0, "split": "train"} for n in range(2_700)]
    bq.give_rows(SOURCE, FIELDS, many)
    assert provider(bq).create(dict(PROPS)).outs["rows"] == 2_700
    assert [(call["method"], call["args"]["uploadType"]) for call in bq.called("jobs.upload")] == [("POST", "resumable"), ("PUT", "resumable")]
    (load,) = loads(bq)
    assert len(bq.loaded[load["jobReference"]["jobId"]]) > 5 * 1024 * 1024
    assert bq.tables[COPY]["numRows"] == "2700"


def test_a_second_copy_replaces_the_rows_it_does_not_add_to_them(bq: BigQueryServer) -> None:
    wired = provider(bq)
    first = wired.create(dict(PROPS))
    bq.give_rows(SOURCE, FIELDS, REVIEWS[:1])  # the reviews were made again, fewer
    again = wired.update(first.id, first.outs, {**PROPS, "triggers": ["job_reviews_2"]})
    assert again.outs["rows"] == 1 and again.outs["job_id"] != first.outs["job_id"]
    assert _rows_back(bq, COPY, REGION) == REVIEWS[:1]


def test_read_of_an_unchanged_copy_changes_nothing(bq: BigQueryServer) -> None:
    wired = provider(bq)
    created = wired.create(dict(PROPS))
    read = wired.read(created.id, dict(created.outs))
    assert read.id == created.id and read.outs == created.outs
    assert not wired.diff(read.id, read.outs, dict(PROPS)).changes
    assert bq.called("tables.get")[-1]["params"]["tableId"] == "evaluation_reviews"


def test_a_copy_dropped_by_hand_is_gone_and_one_changed_by_hand_is_copied_again(bq: BigQueryServer) -> None:
    wired = provider(bq)
    created = wired.create(dict(PROPS))
    bq.tables[COPY]["numRows"] = "2"  # a DELETE in the console
    read = wired.read(created.id, dict(created.outs))
    assert read.outs["drift"] == "holds 2 rows, not the 3 copied"
    diff = wired.diff(read.id, read.outs, dict(PROPS))
    assert diff.changes and diff.replaces == []  # copied again, in place
    assert "drift" not in wired.update(read.id, read.outs, dict(PROPS)).outs
    del bq.tables[COPY]  # DROP TABLE in the console
    assert wired.read(created.id, dict(created.outs)).id == ""


def test_delete_drops_the_copy_in_its_own_location(bq: BigQueryServer) -> None:
    wired = provider(bq)
    created = wired.create(dict(PROPS))
    wired.delete(created.id, created.outs)
    drop = bq.called("jobs.insert")[-1]["body"]
    assert drop["configuration"]["query"]["query"].strip() == f"DROP TABLE IF EXISTS `{COPY}`;"
    assert drop["jobReference"]["location"] == REGION and COPY not in bq.tables
    bq.datasets.pop(f"{PROJECT}.tf_models_tutorial_us_central1")  # the dataset went first: nothing left to drop
    wired.delete(created.id, created.outs)


# --- diff ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, replaces",
    [
        ({"query": QUERY + " WHERE split = 'test'"}, []),
        ({"triggers": ["job_reviews_2"]}, []),
        ({"source_location": "EU"}, []),
        ({"destination": COPY.replace("evaluation_reviews", "reviews")}, ["destination"]),
        ({"destination_location": "europe-west4"}, ["destination_location"]),
    ],
)
def test_what_a_change_of_each_input_does(change: dict, replaces: list[str]) -> None:
    diff = RowCopyProvider().diff("id", {**PROPS, "job_id": "j", "rows": 3}, {**PROPS, **change})
    assert diff.changes and diff.replaces == replaces and not diff.delete_before_replace
    assert not RowCopyProvider().diff("id", {**PROPS, "job_id": "j", "rows": 3.0}, dict(PROPS)).changes


# --- faults on the wire ----------------------------------------------------------------------


def test_a_backend_error_and_a_dropped_connection_on_the_upload_are_retried_by_the_client(bq: BigQueryServer) -> None:
    bq.inject("jobs.upload", http_error(503, "backendError", "Backend error"), DROPPED)
    assert provider(bq).create(dict(PROPS)).outs["rows"] == 3
    assert len(bq.called("jobs.upload")) == 3 and len(loads(bq)) == 1


def test_a_rate_limit_on_the_query_is_retried_by_the_client(bq: BigQueryServer) -> None:
    bq.inject("jobs.insert", http_error(429, "rateLimitExceeded", "Exceeded rate limits: too many api requests"))
    assert provider(bq).create(dict(PROPS)).outs["rows"] == 3
    assert bq.faults_injected == 1


def test_a_source_that_is_gone_fails_naming_the_query_and_uploads_nothing(bq: BigQueryServer) -> None:
    del bq.tables[SOURCE]
    with pytest.raises(bigquery_jobs.StatementError, match=rf"(?s)^BigQuery rejected the query: Not found: Table .*--- query ---\n{QUERY}$"):
        provider(bq).create(dict(PROPS))
    assert bq.called("jobs.upload") == []


def test_a_refused_load_names_the_table_its_location_and_bigquerys_reason(bq: BigQueryServer) -> None:
    bq.fail_next_load("invalid", "Provided Schema does not match Table my-proj:tf_models_tutorial_us_central1.evaluation_reviews")
    with pytest.raises(bigquery_jobs.StatementError) as failure:
        provider(bq).create(dict(PROPS))
    assert str(failure.value).startswith(f"BigQuery refused to load 3 rows into {COPY} (us-central1): Provided Schema does not match")
    assert len(loads(bq)) == 1 and COPY not in bq.tables  # refused once, not retried


def test_a_query_or_a_load_in_the_wrong_location_is_refused_as_bigquery_refuses_it(bq: BigQueryServer) -> None:
    """Why the copy exists: a job in us-central1 cannot read the US table, nor a US load fill the regional dataset."""
    with pytest.raises(bigquery_jobs.StatementError, match="Dataset my-proj:tf_models_tutorial was not found in location us-central1"):
        provider(bq).create({**PROPS, "source_location": REGION})
    with pytest.raises(bigquery_jobs.StatementError, match=r"refused to load 3 rows .*was not found in location US"):
        provider(bq).create({**PROPS, "destination_location": US})
    assert COPY not in bq.tables
