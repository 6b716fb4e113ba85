"""Running one BigQuery statement to completion, and finding what it made.

The client is a parameter (the seam the tests use); the real one is made from
Application Default Credentials by `make_client`.

Who retries what: google-cloud-bigquery already retries every request on 429,
5xx, rate-limit reasons and dropped connections, and restarts a job that failed
for a backend reason; it is given our deadlines rather than a second loop of
ours around it. Ours is only for what the library cannot know is temporary: a
remote model's grant that IAM has not propagated yet.

google.api_core is imported inside the functions that judge its errors: the
program imports this module for its providers' sake on every preview, and that
import alone costs ~0.3 s (it scans every installed distribution).
"""

from __future__ import annotations

import base64
import decimal
import time
from collections.abc import Callable, Mapping
from typing import Any

from bqml_text_embeddings import retry

# The library restarts a failed job within this; each request inside it has retry.TRANSIENT's deadline.
JOB_DEADLINE = 4 * retry.TRANSIENT.deadline


class StatementError(Exception):
    """BigQuery refused a statement: its own message, then the statement."""


def make_client(project: str, location: str) -> Any:
    from google.cloud import bigquery

    return bigquery.Client(project=project, location=location)


def _request_retry() -> Any:
    from google.cloud import bigquery

    return bigquery.DEFAULT_RETRY.with_timeout(retry.TRANSIENT.deadline)


def execute(
    client: Any,
    sql: str,
    location: str,
    wait_for_iam: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Runs `sql` and waits for it; returns the job id.

    With `wait_for_iam`, permission errors of a grant that has not propagated
    yet are retried for up to ten minutes.
    """
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery
    from google.cloud.bigquery import retry as bigquery_retry

    request_retry = _request_retry()
    job_retry = bigquery_retry.DEFAULT_JOB_RETRY.with_timeout(JOB_DEADLINE)

    def attempt() -> str:
        config = bigquery.QueryJobConfig(use_legacy_sql=False)
        job = client.query(sql, job_config=config, location=location, retry=request_retry, job_retry=job_retry)
        job.result(retry=request_retry, job_retry=job_retry)
        return job.job_id

    try:
        if wait_for_iam:
            return retry.call(attempt, retry.is_iam_propagation, retry.IAM_PROPAGATION, sleep)
        return attempt()
    except retry.RetriesExhausted as exc:
        raise StatementError(
            f"BigQuery still refusing after {exc.waited:.0f}s: {_message(exc.last)}. IAM changes usually propagate "
            f"within 2 minutes but can take 7 or more; run `pulumi up` again.\n--- statement ---\n{sql}"
        ) from exc.last
    except gexc.RetryError as exc:
        raise StatementError(
            f"BigQuery still failing after retries: {_message(exc.cause or exc)}\n--- statement ---\n{sql}"
        ) from (exc.cause or exc)
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery rejected the statement: {_message(exc)}\n--- statement ---\n{sql}") from exc


def drop(client: Any, sql: str, location: str) -> None:
    """Runs a DROP ... IF EXISTS; a dataset that is already gone counts as dropped."""
    from google.api_core import exceptions as gexc

    try:
        execute(client, sql, location)
    except StatementError as exc:
        if isinstance(exc.__cause__, gexc.NotFound):
            return
        raise


def find(client: Any, kind: str, object_id: str) -> dict[str, Any] | None:
    """The REST resource of what a statement made, or None if it does not exist (a vector index: its table)."""
    from google.api_core import exceptions as gexc

    get = {
        "MODEL": client.get_model,
        "TABLE": client.get_table,
        "VIEW": client.get_table,
        "VECTOR INDEX": client.get_table,
        "TABLE FUNCTION": client.get_routine,
        "PROCEDURE": client.get_routine,
    }[kind]
    try:
        return get(object_id, retry=_request_retry()).to_api_repr()
    except gexc.NotFound:
        return None


def start(client: Any, sql: str, location: str, prefix: str) -> str:
    """Starts `sql` as a job and returns its id at once, without waiting for it to finish."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    try:
        job = client.query(
            sql,
            job_config=bigquery.QueryJobConfig(use_legacy_sql=False),
            location=location,
            job_id_prefix=prefix,
            retry=_request_retry(),
        )
        return job.job_id
    except gexc.RetryError as exc:
        raise StatementError(f"BigQuery still failing after retries: {_message(exc.cause or exc)}\n--- statement ---\n{sql}") from exc
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery rejected the statement: {_message(exc)}\n--- statement ---\n{sql}") from exc


def cancel(client: Any, job_id: str, location: str) -> None:
    """Asks BigQuery to stop a job; one that is gone or already done needs nothing."""
    from google.api_core import exceptions as gexc

    try:
        client.cancel_job(job_id, location=location, retry=_request_retry())
    except gexc.NotFound:
        return


def table_resource(client: Any, table: str) -> dict[str, Any] | None:
    """A table's REST resource (its location, its schema), or None if it does not exist or cannot be seen."""
    from google.api_core import exceptions as gexc

    try:
        return client.get_table(table, retry=_request_retry()).to_api_repr()
    except (gexc.NotFound, gexc.Forbidden):
        return None


def rows(client: Any, sql: str, location: str) -> list[dict[str, Any]]:
    """A query's rows as JSON-ready dicts (timestamps as ISO 8601), for stack outputs."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    request_retry = _request_retry()
    try:
        job = client.query(sql, job_config=bigquery.QueryJobConfig(use_legacy_sql=False), location=location, retry=request_retry)
        return [{key: _plain(value) for key, value in row.items()} for row in job.result(retry=request_retry)]
    except gexc.RetryError as exc:
        raise StatementError(f"BigQuery still failing after retries: {_message(exc.cause or exc)}\n--- query ---\n{sql}") from exc
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery rejected the query: {_message(exc)}\n--- query ---\n{sql}") from exc


def copy_rows(source: Any, destination: Any, sql: str, source_location: str, table: str, destination_location: str) -> tuple[str, int]:
    """Runs `sql` where its tables are and loads its rows into `table` in another location, replacing
    what the table held (a load job, WRITE_TRUNCATE: a load sent twice leaves the same table).
    Returns the load job's id and the number of rows; the rows pass through this process."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    request_retry = _request_retry()
    try:
        job = source.query(sql, job_config=bigquery.QueryJobConfig(use_legacy_sql=False), location=source_location, retry=request_retry)
        result = job.result(retry=request_retry)
        rows = [{key: _json_value(value) for key, value in row.items()} for row in result]
    except gexc.RetryError as exc:
        raise StatementError(f"BigQuery still failing after retries: {_message(exc.cause or exc)}\n--- query ---\n{sql}") from exc
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery rejected the query: {_message(exc)}\n--- query ---\n{sql}") from exc
    config = bigquery.LoadJobConfig(
        schema=result.schema,
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
    )
    try:
        load = destination.load_table_from_json(rows, table, job_config=config, location=destination_location)
        load.result(retry=request_retry)
    except gexc.RetryError as exc:
        raise StatementError(f"BigQuery still failing after retries loading {len(rows)} rows into {table}: {_message(exc.cause or exc)}") from exc
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery refused to load {len(rows)} rows into {table} ({destination_location}): {_message(exc)}") from exc
    return load.job_id, len(rows)


def _json_value(value: Any) -> Any:
    """A cell as a JSON load takes it: timestamps and dates as ISO 8601, NUMERIC as a string, BYTES as base64."""
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def mismatch(resource: Mapping[str, Any], expect: Mapping[str, str]) -> str | None:
    """How a model differs from what our statement made it, where BigQuery says; else None.

    `expect` may name the `modelUri` an imported model was read from, or the
    `endpoint` of a remote model.
    """
    runs = resource.get("trainingRuns") or []
    uris = [run.get("trainingOptions", {}).get("modelUri") for run in runs]
    found_uri = next((uri for uri in reversed(uris) if uri), None)
    if "modelUri" in expect and found_uri and not _same_path(found_uri, expect["modelUri"]):
        return f"imported from {found_uri}, not {expect['modelUri']}"
    found_endpoint = (resource.get("remoteModelInfo") or {}).get("endpoint")
    if "endpoint" in expect and found_endpoint and found_endpoint.rstrip("/") != expect["endpoint"].rstrip("/"):
        return f"serves {found_endpoint}, not {expect['endpoint']}"
    return None


def _same_path(a: str, b: str) -> bool:
    return a.rstrip("*").rstrip("/") == b.rstrip("*").rstrip("/")


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)
