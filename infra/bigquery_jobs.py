"""Running one BigQuery statement to completion, the way a careful person would.

The client is a parameter (the seam the tests use); the real one is made from
Application Default Credentials by `make_client`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from google.api_core import exceptions as gexc

from infra import retry


class StatementError(Exception):
    """BigQuery refused a statement: its own message, then the statement."""


def make_client(project: str, location: str) -> Any:
    from google.cloud import bigquery

    return bigquery.Client(project=project, location=location)


def execute(
    client: Any,
    sql: str,
    location: str,
    wait_for_iam: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Runs `sql` and waits for it; returns the job id.

    Transient errors (429, 5xx, rate limits) are retried with backoff; with
    `wait_for_iam`, so are permission errors of a grant that has not
    propagated yet, for up to ten minutes.
    """
    from google.cloud import bigquery

    def attempt() -> str:
        job = client.query(sql, job_config=bigquery.QueryJobConfig(use_legacy_sql=False), location=location)
        job.result()
        return job.job_id

    def retryable(exc: BaseException) -> bool:
        return retry.is_transient(exc) or (wait_for_iam and retry.is_iam_propagation(exc))

    try:
        return retry.call(attempt, retryable, retry.IAM_PROPAGATION if wait_for_iam else retry.TRANSIENT, sleep)
    except retry.RetriesExhausted as exc:
        hint = (
            " IAM changes usually propagate within 2 minutes but can take 7 or more; run `pulumi up` again."
            if wait_for_iam and retry.is_iam_propagation(exc.last)
            else ""
        )
        raise StatementError(
            f"BigQuery still failing after {exc.waited:.0f}s of retries: {_message(exc.last)}.{hint}\n"
            f"--- statement ---\n{sql}"
        ) from exc.last
    except gexc.GoogleAPICallError as exc:
        raise StatementError(f"BigQuery rejected the statement: {_message(exc)}\n--- statement ---\n{sql}") from exc


def drop(client: Any, sql: str, location: str, sleep: Callable[[float], None] = time.sleep) -> None:
    """Runs a DROP ... IF EXISTS; a dataset that is already gone counts as dropped."""
    try:
        execute(client, sql, location, sleep=sleep)
    except StatementError as exc:
        if isinstance(exc.__cause__, gexc.NotFound):
            return
        raise


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)
