"""Read-only REST calls to the Google APIs that no client library in requirements.txt covers.

Service Usage, Artifact Registry (its API and its Docker registry endpoint) and Cloud Quotas have
client libraries of their own (google-cloud-service-usage, google-cloud-artifact-registry,
google-cloud-quotas), but none is pinned here, and google-api-python-client is a test-only pin.
So these calls go through the pieces every Google client library is built on: google-auth's
`AuthorizedSession` (Application Default Credentials, token refresh, the quota project header)
and google-api-core's errors and retry policy, the same ones the GAPIC clients raise and retry
with. The request shapes are the APIs' discovery documents' (the tests check every request
against them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bqml_text_embeddings import retry

# A preflight should answer in minutes: each request, with its retries, gets this long.
DEADLINE = 120.0


def transient_retry() -> Any:
    """google-api-core's policy for transient errors (429, 500, 503, dropped connections): our backoff's growth and cap, a shorter first wait."""
    from google.api_core import retry as gretry

    backoff = retry.TRANSIENT
    return gretry.Retry(
        predicate=gretry.if_transient_error,
        initial=1.0,
        maximum=backoff.maximum,
        multiplier=backoff.multiplier,
        timeout=DEADLINE,
    )


@dataclass
class Rest:
    """One API's root (`https://serviceusage.googleapis.com`) over an authorized session."""

    session: Any  # google.auth.transport.requests.AuthorizedSession
    root: str
    retry: Any = field(default_factory=transient_retry)

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """GET root/path; the decoded JSON body. Raises google.api_core.exceptions.GoogleAPICallError."""
        return self._call("GET", path, params, {}).json()

    def head(self, path: str, headers: dict[str, str]) -> dict[str, str]:
        """HEAD root/path; the response's headers."""
        return dict(self._call("HEAD", path, None, headers).headers)

    def _call(self, method: str, path: str, params: list[tuple[str, str]] | None, headers: dict[str, str]) -> Any:
        from google.api_core import exceptions as gexc

        url = f"{self.root.rstrip('/')}/{path.lstrip('/')}"

        def once() -> Any:
            response = self.session.request(method, url, params=params, headers=headers, timeout=60)
            if response.status_code >= 400:
                raise gexc.from_http_response(response)
            return response

        return self.retry(once)()


def message(exc: BaseException) -> str:
    """The API's own words for an error, without the method and URL api_core puts in front."""
    response = getattr(exc, "response", None)
    try:
        found = response.json()["error"]["message"]  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - no JSON body (a HEAD, a gRPC error): fall back to the exception
        found = None
    return str(found or getattr(exc, "message", None) or exc)


def service_disabled(exc: BaseException) -> str | None:
    """The API a SERVICE_DISABLED refusal names (its google.rpc.ErrorInfo), or None for any other error.

    Read from the details directly: on REST errors api_core keeps the ErrorInfo as a dict, which
    its `reason` property cannot read.
    """
    for detail in getattr(exc, "details", None) or ():
        if isinstance(detail, dict):
            reason, metadata = detail.get("reason"), detail.get("metadata") or {}
        else:
            reason, metadata = getattr(detail, "reason", None), dict(getattr(detail, "metadata", None) or {})
        if reason == "SERVICE_DISABLED":
            return str(metadata.get("service") or "the API")
    return None
