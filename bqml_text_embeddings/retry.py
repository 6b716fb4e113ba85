"""Retrying Google API calls: which errors are worth another try, and how long to wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

T = TypeVar("T")


# google.api_core is imported where errors are judged, not at module import: importing it
# scans every installed distribution (~0.3 s), and a warm `pulumi preview` imports this
# module but never calls Google.
@cache
def _transient_types() -> tuple[type[BaseException], ...]:
    from google.api_core import exceptions as gexc

    return (
        gexc.TooManyRequests,
        gexc.ServiceUnavailable,
        gexc.InternalServerError,
        gexc.BadGateway,
        gexc.GatewayTimeout,
        gexc.DeadlineExceeded,
    )

# BigQuery reports some transient job failures with other HTTP codes.
_TRANSIENT_REASONS = {"rateLimitExceeded", "jobRateLimitExceeded", "backendError", "internalError"}
# Vertex AI: "The following quota metrics exceed quota limits: ...custom_model_serving_cpus".
_QUOTA_LIMIT = "exceed quota limits"
# A grant made moments ago may not be visible yet (IAM propagates in ~2, sometimes 7+, minutes):
# "...gcp-sa-bigquery-condel... does not have the permission to access or use the endpoint",
# "Service account ... does not exist".
_ENDPOINT_PERMISSION = "does not have the permission to access or use the endpoint"


@dataclass(frozen=True)
class Backoff:
    initial: float = 2.0
    maximum: float = 60.0
    multiplier: float = 2.0
    deadline: float = 300.0


TRANSIENT = Backoff()
IAM_PROPAGATION = Backoff(initial=5.0, maximum=60.0, deadline=600.0)


class RetriesExhausted(Exception):
    def __init__(self, last: BaseException, waited: float) -> None:
        super().__init__(str(last))
        self.last = last
        self.waited = waited


def error_reasons(exc: BaseException) -> set[str]:
    errors = getattr(exc, "errors", None) or []
    return {e.get("reason", "") for e in errors if isinstance(e, dict)}


def is_transient(exc: BaseException) -> bool:
    if _QUOTA_LIMIT in (getattr(exc, "message", None) or str(exc)):
        return False  # a resource quota (e.g. serving CPUs) will not free itself up in minutes
    return isinstance(exc, _transient_types()) or bool(error_reasons(exc) & _TRANSIENT_REASONS)


def is_iam_propagation(exc: BaseException) -> bool:
    from google.api_core import exceptions as gexc

    if not isinstance(exc, (gexc.Forbidden, gexc.BadRequest, gexc.PermissionDenied, gexc.NotFound)):
        return False
    message = getattr(exc, "message", None) or str(exc)
    return _ENDPOINT_PERMISSION in message or ("service account" in message.lower() and "does not exist" in message)


def call(
    fn: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """fn(), again after exponential waits while it raises retryable errors, until the deadline."""
    start, delay, slept = clock(), backoff.initial, 0.0
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retryable(exc):
                raise
            # Slept time counts even where `sleep` is not the wall clock's (tests).
            waited = max(clock() - start, slept)
            if waited + delay > backoff.deadline:
                raise RetriesExhausted(exc, waited) from exc
            sleep(delay)
            slept += delay
            delay = min(delay * backoff.multiplier, backoff.maximum)
