"""Every check in order, with the clients they read through.

`make_clients` builds the real ones from Application Default Credentials; tests build the same
client classes pointed at servers on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stack.preflight import apis, image, permissions, quotas, rest, tables
from stack.preflight.report import Line, note
from stack.preflight.stack_config import Stack

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


@dataclass
class Clients:
    services: rest.Rest  # serviceusage.googleapis.com
    projects: Any  # google.cloud.resourcemanager_v3.ProjectsClient
    bigquery: Any  # google.cloud.bigquery.Client
    artifacts: rest.Rest  # artifactregistry.googleapis.com
    registry: Callable[[str], rest.Rest]  # a Docker registry host (us-central1-docker.pkg.dev) to its client
    quotas: rest.Rest  # cloudquotas.googleapis.com


def make_clients(project: str) -> Clients:
    """Clients with the user's Application Default Credentials (google.auth.default raises if there are none)."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import bigquery, resourcemanager_v3

    credentials, _ = google.auth.default(scopes=SCOPES)
    # Service Usage and Cloud Quotas refuse end-user credentials that name no quota project
    # ("... requires a quota project, which is not set by default"); the stack's project is the one at hand.
    if getattr(credentials, "quota_project_id", None) is None and hasattr(credentials, "with_quota_project"):
        credentials = credentials.with_quota_project(project)
    session = AuthorizedSession(credentials)
    return Clients(
        services=rest.Rest(session, "https://serviceusage.googleapis.com"),
        projects=resourcemanager_v3.ProjectsClient(credentials=credentials),
        bigquery=bigquery.Client(project=project, credentials=credentials),
        artifacts=rest.Rest(session, "https://artifactregistry.googleapis.com"),
        registry=lambda host: rest.Rest(session, f"https://{host}"),
        quotas=rest.Rest(session, "https://cloudquotas.googleapis.com"),
    )


def run(stack: Stack, clients: Clients) -> list[Line]:
    settings = stack.settings
    api_lines, states = apis.check(clients.services, settings)
    lines = [*api_lines, *permissions.check(clients.projects, settings)]
    if states.get("bigquery.googleapis.com") is False:
        rows: dict[str, int | None] = {}
        lines.append(
            note(
                tables.CHECK,
                "the BigQuery API is off, so the source tables cannot be read yet: turn it on "
                f"(gcloud services enable bigquery.googleapis.com --project {settings.project}) and run ./dev preflight again",
            )
        )
    else:
        table_lines, rows = tables.check(clients.bigquery, settings)
        lines += table_lines
    lines += image.check(clients.artifacts, clients.registry, settings, stack.name)
    lines += quotas.check(clients.quotas, settings, rows)
    return lines
