"""The real Google client libraries, pointed at the servers in tests/wire with anonymous credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials


def bigquery_factory(url: str) -> Callable[[str, str], Any]:
    """What infra.bigquery_jobs.make_client makes, talking to `url` instead of bigquery.googleapis.com."""

    def make(project: str, location: str) -> Any:
        from google.cloud import bigquery

        return bigquery.Client(
            project=project, location=location, credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=url)
        )

    return make
