"""A corpus through google.cloud.bigquery.Client on the wire: its first fill started and cancelled, and
every statement it declares made and then dropped, against the BigQuery server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bqml_text_embeddings.bigquery.source_table import SourceTableCheckProvider, SourceTableError
from bqml_text_embeddings.bigquery.starter import JOB_PREFIX, RefreshStarterProvider
from bqml_text_embeddings.bigquery.statement import BigQueryStatementProvider
from tests.pulumi_harness import ProgramRun, run_program
from tests.wire.bigquery_server import DROPPED, BigQueryServer, http_error
from tests.wire.clients import bigquery_factory

PROJECT = "my-proj-123"
SOURCE = "acme-data.support.tickets"
PROCEDURE = f"{PROJECT}.tf_models_tutorial.refresh_tickets_nnlm"
CALL = f"-- Refresh corpus tickets with nnlm now.\nCALL `{PROCEDURE}`();\n"
LEASE = f"{PROJECT}.tf_models_tutorial.tickets_refresh_lease"
TAKEOVER = f"UPDATE `{LEASE}` SET holder = NULL, expires_at = NULL WHERE model = 'nnlm'\n"
PROPS = {"project": PROJECT, "location": "US", "sql": CALL, "takeover_sql": TAKEOVER, "triggers": ["v1"], "job_id": None}
SETTING = "bqml-text-embeddings:corpora.tickets"
CHECK = {"project": PROJECT, "location": "US", "table": SOURCE, "key": ["ticket_id"], "text": "body", "newest_by": None, "setting": SETTING}
FIELDS = [
    {"name": "ticket_id", "type": "INTEGER", "mode": "NULLABLE"},
    {"name": "body", "type": "STRING", "mode": "NULLABLE"},
    {"name": "updated_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
]


@pytest.fixture
def bq() -> Iterator[BigQueryServer]:
    server = BigQueryServer(PROJECT).start()
    server.add_dataset("tf_models_tutorial")
    server.add_table(SOURCE, "US", FIELDS)
    server.add_table(LEASE, "US")
    server.routines[PROCEDURE] = {"routineReference": {"projectId": PROJECT, "datasetId": "tf_models_tutorial", "routineId": "refresh_tickets_nnlm"}}
    yield server
    server.stop()
    assert server.problems == [], "requests the BigQuery API would not accept"


def starter(server: BigQueryServer) -> RefreshStarterProvider:
    return RefreshStarterProvider(client_factory=bigquery_factory(server.url))


def source_check(server: BigQueryServer) -> SourceTableCheckProvider:
    return SourceTableCheckProvider(client_factory=bigquery_factory(server.url))


def test_the_first_fill_is_started_in_the_location_and_not_waited_for(bq: BigQueryServer) -> None:
    result = starter(bq).create(dict(PROPS))
    (insert,) = bq.called("jobs.insert")
    assert insert["body"]["configuration"]["query"] == {"query": CALL, "useLegacySql": False}
    reference = insert["body"]["jobReference"]
    assert reference["location"] == "US" and reference["jobId"].startswith(JOB_PREFIX)
    assert result.outs["job_id"] == reference["jobId"]
    assert bq.called("jobs.get") == [] and bq.called("jobs.getQueryResults") == []  # `pulumi up` does not wait for hours


def test_the_source_table_is_read_once_and_a_fitting_one_passes(bq: BigQueryServer) -> None:
    provider = source_check(bq)
    result = provider.create(dict(CHECK))
    (get,) = bq.called("tables.get")
    assert get["params"] == {"projectId": "acme-data", "datasetId": "support", "tableId": "tickets"}
    assert not provider.diff("id", result.outs, dict(CHECK)).changes  # nothing changed: not read again
    assert provider.diff("id", result.outs, {**CHECK, "key": ["ticket_id", "line"]}).changes


def test_a_source_in_another_location_is_refused_with_the_rule_and_the_fix(bq: BigQueryServer) -> None:
    bq.add_table(SOURCE, "europe-west1", FIELDS)
    with pytest.raises(SourceTableError) as failure:
        source_check(bq).create(dict(CHECK))
    message = str(failure.value)
    assert f"{SETTING}.table: acme-data.support.tickets is in europe-west1, and BigQuery queries only within one location" in message
    assert "Copy the table to US, or set bqml-text-embeddings:location to europe-west1" in message


def test_a_missing_source_is_named(bq: BigQueryServer) -> None:
    bq.tables.pop(SOURCE)
    with pytest.raises(SourceTableError, match=r"corpora\.tickets\.table: acme-data\.support\.tickets does not exist or the deployer cannot read it"):
        source_check(bq).create(dict(CHECK))


@pytest.mark.parametrize(
    ("field", "why"),
    [
        ({"type": "FLOAT", "mode": "NULLABLE"}, "a float key is a trap"),
        ({"type": "GEOGRAPHY", "mode": "NULLABLE"}, "BigQuery cannot group by GEOGRAPHY"),
        ({"type": "JSON", "mode": "NULLABLE"}, "BigQuery cannot group by JSON"),
        ({"type": "RECORD", "mode": "NULLABLE", "fields": [{"name": "a", "type": "STRING"}]}, "BigQuery cannot group by STRUCT"),
        ({"type": "STRING", "mode": "REPEATED"}, "is an ARRAY, and BigQuery cannot group by ARRAY"),
    ],
)
def test_a_key_bigquery_cannot_group_by_is_refused_naming_corpora_name_key(bq: BigQueryServer, field: dict, why: str) -> None:
    bq.add_table(SOURCE, "US", [{"name": "ticket_id", **field}, *FIELDS[1:]])
    with pytest.raises(SourceTableError) as failure:
        source_check(bq).create(dict(CHECK))
    (line,) = [line.strip() for line in str(failure.value).splitlines()[1:]]
    assert line.startswith(f"{SETTING}.key: ticket_id ") and why in line


@pytest.mark.parametrize("kind", ["STRING", "BYTES", "INTEGER", "INT64", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "DATE", "DATETIME", "TIME", "TIMESTAMP", "INTERVAL"])
def test_every_key_type_bigquery_can_group_by_passes(bq: BigQueryServer, kind: str) -> None:
    bq.add_table(SOURCE, "US", [{"name": "Ticket_ID", "type": kind, "mode": "REQUIRED"}, *FIELDS[1:]])  # names are case-insensitive
    source_check(bq).create(dict(CHECK))


def test_missing_columns_a_text_that_is_not_a_string_and_a_bad_newest_by_are_each_named(bq: BigQueryServer) -> None:
    bq.add_table(SOURCE, "US", [{"name": "body", "type": "BYTES", "mode": "NULLABLE"}, {"name": "updated_at", "type": "STRING"}])
    with pytest.raises(SourceTableError) as failure:
        source_check(bq).create({**CHECK, "key": ["ticket_id", "line"], "newest_by": "updated_at"})
    lines = [line.strip() for line in str(failure.value).splitlines()[1:]]
    assert [line.split(": ")[0] for line in lines] == [f"{SETTING}.key", f"{SETTING}.key", f"{SETTING}.text", f"{SETTING}.newestBy"]
    assert "has no column ticket_id; its columns are ['body', 'updated_at']" in lines[0]
    assert "body is BYTES; the text to embed must be a STRING column" in lines[2]


def test_rate_limits_and_a_dropped_connection_are_retried_by_the_client(bq: BigQueryServer) -> None:
    bq.inject("tables.get", http_error(503, "backendError", "Backend error"), DROPPED)
    source_check(bq).create(dict(CHECK))
    bq.inject("jobs.insert", http_error(403, "rateLimitExceeded", "Exceeded rate limits"), DROPPED)
    result = starter(bq).create(dict(PROPS))
    assert len(bq.jobs) == 1 and result.outs["job_id"] in bq.jobs


def test_a_changed_procedure_takes_over_from_the_old_run_and_destroy_cancels_the_last(bq: BigQueryServer) -> None:
    provider = starter(bq)
    first = provider.create(dict(PROPS)).outs
    assert not provider.diff("id", first, {**PROPS, "job_id": None}).changes  # nothing changed: nothing runs
    changed = {**PROPS, "triggers": ["v2"]}
    assert provider.diff("id", first, changed).changes
    second = provider.update("id", first, changed).outs
    # The old run is cancelled and its lease released before the new procedure's run starts.
    assert bq.cancelled == [first["job_id"]]
    assert bq.executed()[-2:] == [TAKEOVER, CALL] and second["job_id"] != first["job_id"]
    provider.delete("id", second)
    assert bq.cancelled == [first["job_id"], second["job_id"]]
    assert bq.called("jobs.cancel")[-1]["args"]["location"] == "US"


def test_cancelling_a_job_bigquery_no_longer_knows_is_fine(bq: BigQueryServer) -> None:
    starter(bq).delete("id", {**PROPS, "job_id": "bqml_text_embeddings_refresh_gone"})
    assert bq.called("jobs.cancel") and bq.cancelled == []


@pytest.fixture(scope="module")
def corpus_run(base_config: dict) -> ProgramRun:
    corpora = {"tickets": {"table": SOURCE, "key": ["ticket_id"], "text": "body", "models": ["nnlm"], "schedule": "every 24 hours"}}
    return run_program({**base_config, "models": ["nnlm"], "corpora": corpora})


def test_every_corpus_statement_is_made_then_dropped_leaving_nothing(bq: BigQueryServer, corpus_run: ProgramRun) -> None:
    """`pulumi up` then `pulumi destroy` of a corpus, statement by statement through the real client."""
    statements = corpus_run.statements()
    model = statements["nnlm-create-model"].inputs
    order = ["nnlm-create-model", *(name for name in statements if name.startswith("tickets"))]
    provider = BigQueryStatementProvider(client_factory=bigquery_factory(bq.url))
    bq.routines.clear()
    bq.tables.pop(LEASE)
    before = (set(bq.tables), set(bq.routines), set(bq.models))
    made = {name: provider.create(dict(statements[name].inputs)).outs for name in order}
    assert model["target"] in bq.models
    for name in order:
        kind, target = statements[name].inputs["target_kind"], statements[name].inputs["target"]
        store = bq.routines if kind in ("PROCEDURE", "TABLE FUNCTION") else bq.models if kind == "MODEL" else bq.tables
        assert target in store, name
        assert provider.read("id", made[name]).id == "id", name  # refresh finds it
    assert bq.routines[f"{PROJECT}.tf_models_tutorial.refresh_tickets_nnlm"]["routineType"] == "PROCEDURE"

    for name in reversed(order):  # the engine deletes dependents first
        provider.delete("id", made[name])
    assert (set(bq.tables), set(bq.routines), set(bq.models)) == before
    assert bq.indexes == {}
