"""The BigQuery statement resource's lifecycle against a fake client."""

from __future__ import annotations

import dill
import pytest
from google.api_core import exceptions as gexc

from bqml_text_embeddings import retry
from bqml_text_embeddings.bigquery import jobs as bigquery_jobs
from bqml_text_embeddings.bigquery.statement import BigQueryStatementProvider, statement_id
from tests.fakes import FakeBigQuery, bigquery_error

CREATE = "CREATE OR REPLACE MODEL `p.d.nnlm_model` OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://b/nnlm_model/abc/*');"
DROP = "DROP MODEL IF EXISTS `p.d.nnlm_model`;"
PROPS = {
    "project": "my-proj", "location": "US", "sql": CREATE, "drop_sql": DROP, "target_kind": "MODEL", "target": "p.d.nnlm_model",
    "expect": {"modelUri": "gs://b/nnlm_model/abc/*"}, "wait_for_iam": False, "triggers": [],
}
ENDPOINT_DENIED = (
    "Access Denied: bqcx-1-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com does not have the permission "
    "to access or use the endpoint. Please grant the Vertex AI user role"
)


class Harness:
    def __init__(self, client: FakeBigQuery) -> None:
        self.client = client
        self.factory_calls: list[tuple[str, str]] = []
        self.sleeps: list[float] = []
        self.provider = BigQueryStatementProvider(client_factory=self._factory, sleep=self.sleeps.append)

    def _factory(self, project: str, location: str) -> FakeBigQuery:
        self.factory_calls.append((project, location))
        return self.client


def test_create_runs_the_statement_in_the_datasets_location() -> None:
    h = Harness(FakeBigQuery())
    result = h.provider.create(dict(PROPS))
    assert h.factory_calls == [("my-proj", "US")]
    assert h.client.called("query") == [{"sql": CREATE, "use_legacy_sql": False, "location": "US"}]
    assert h.client.executed == [CREATE]
    assert result.id == statement_id(DROP)
    assert result.outs["job_id"] == "job_1" and result.outs["sql"] == CREATE
    assert h.sleeps == []


def test_the_client_retries_transient_faults_within_our_deadlines() -> None:
    h = Harness(FakeBigQuery())
    h.provider.create(dict(PROPS))
    ((request_retry, job_retry),) = h.client.retries
    assert request_retry.timeout == retry.TRANSIENT.deadline
    assert job_retry.timeout == bigquery_jobs.JOB_DEADLINE
    assert request_retry._predicate(bigquery_error(403, "Exceeded rate limits", reason="rateLimitExceeded"))
    assert request_retry._predicate(bigquery_error(503, "Service unavailable"))


def test_a_permanent_error_reports_bigquerys_message_and_the_statement() -> None:
    h = Harness(FakeBigQuery({"result": [bigquery_error(400, "Error while reading data, error message: model_path does not exist", reason="invalid")]}))
    with pytest.raises(bigquery_jobs.StatementError) as failure:
        h.provider.create(dict(PROPS))
    message = str(failure.value)
    assert message.startswith("BigQuery rejected the statement: Error while reading data, error message: model_path does not exist")
    assert message.endswith(f"--- statement ---\n{CREATE}")
    assert h.sleeps == [] and len(h.client.called("query")) == 1


def test_transient_faults_that_outlast_the_clients_retries_end_in_a_clear_error() -> None:
    exhausted = gexc.RetryError("Timeout of 300.0s exceeded", bigquery_error(503, "Service unavailable"))
    h = Harness(FakeBigQuery({"query": [exhausted]}))
    with pytest.raises(bigquery_jobs.StatementError, match=r"^BigQuery still failing after retries: Service unavailable"):
        h.provider.create(dict(PROPS))
    assert len(h.client.called("query")) == 1 and h.sleeps == []  # no second loop around the client's


def test_iam_propagation_is_waited_out_only_where_asked() -> None:
    denied = [bigquery_error(403, ENDPOINT_DENIED, reason="accessDenied") for _ in range(3)]
    waiting = Harness(FakeBigQuery({"result": list(denied)}))
    waiting.provider.create({**PROPS, "wait_for_iam": True})
    assert waiting.client.executed == [CREATE] and len(waiting.sleeps) == 3

    impatient = Harness(FakeBigQuery({"result": list(denied)}))
    with pytest.raises(bigquery_jobs.StatementError, match="BigQuery rejected the statement: Access Denied"):
        impatient.provider.create(dict(PROPS))


def test_iam_propagation_that_outlasts_the_wait_says_so() -> None:
    h = Harness(FakeBigQuery({"result": [bigquery_error(403, ENDPOINT_DENIED, reason="accessDenied")] * 100}))
    with pytest.raises(bigquery_jobs.StatementError, match=r"BigQuery still refusing after .*IAM changes usually propagate within 2 minutes"):
        h.provider.create({**PROPS, "wait_for_iam": True})
    assert retry.IAM_PROPAGATION.deadline - 60 <= sum(h.sleeps) <= retry.IAM_PROPAGATION.deadline


def test_delete_runs_the_inverse_and_tolerates_what_is_already_gone() -> None:
    h = Harness(FakeBigQuery())
    h.provider.delete("id", dict(PROPS))
    assert h.client.executed == [DROP]

    gone = Harness(FakeBigQuery({"result": [bigquery_error(404, "Not found: Dataset my-proj:tf_models_tutorial")]}))
    gone.provider.delete("id", dict(PROPS))  # no error

    refused = Harness(FakeBigQuery({"result": [bigquery_error(403, "Access Denied: Dataset my-proj:tf_models_tutorial", reason="accessDenied")]}))
    with pytest.raises(bigquery_jobs.StatementError, match="Access Denied"):
        refused.provider.delete("id", dict(PROPS))


def test_diff_reruns_only_on_change_and_replaces_only_for_another_object() -> None:
    provider = BigQueryStatementProvider()
    olds = {**PROPS, "job_id": "job_1", "sql_sha256": "x"}
    assert not provider.diff("id", olds, dict(PROPS)).changes
    edited = provider.diff("id", olds, {**PROPS, "sql": CREATE.replace("abc", "def")})
    assert edited.changes and edited.replaces == []
    retriggered = provider.diff("id", olds, {**PROPS, "triggers": ["new model"]})
    assert retriggered.changes and retriggered.replaces == []
    drifted = provider.diff("id", {**olds, "drift": "imported from gs://elsewhere/*"}, dict(PROPS))
    assert drifted.changes and drifted.replaces == []
    renamed = provider.diff("id", olds, {**PROPS, "drop_sql": DROP.replace("nnlm", "swivel")})
    assert renamed.replaces == ["drop_sql"] and renamed.delete_before_replace is False


def test_update_runs_the_new_statement() -> None:
    h = Harness(FakeBigQuery())
    new_sql = CREATE.replace("abc", "def")
    result = h.provider.update("id", dict(PROPS), {**PROPS, "sql": new_sql})
    assert h.client.executed == [new_sql] and result.outs["sql"] == new_sql


def test_the_provider_pickles_without_clients_or_credentials() -> None:
    restored = dill.loads(dill.dumps(BigQueryStatementProvider(), recurse=True))
    assert restored._client_factory is bigquery_jobs.make_client


def test_not_found_on_create_is_not_swallowed() -> None:
    h = Harness(FakeBigQuery({"result": [gexc.NotFound("Not found: Dataset my-proj:tf_models_tutorial")]}))
    with pytest.raises(bigquery_jobs.StatementError, match="Not found: Dataset"):
        h.provider.create(dict(PROPS))
