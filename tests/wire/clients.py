"""The real Google client libraries, pointed at the servers in tests/wire with anonymous credentials."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials


def bigquery_factory(url: str) -> Callable[[str, str], Any]:
    """What bqml_text_embeddings.bigquery.jobs.make_client makes, talking to `url` instead of bigquery.googleapis.com."""

    def make(project: str, location: str) -> Any:
        from google.cloud import bigquery

        return bigquery.Client(
            project=project, location=location, credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=url)
        )

    return make


def vertex_factory(address: str, real_sleep_cap: float = 0.0) -> Callable[[str], Any]:
    """What bqml_text_embeddings.vertex.ops.make_clients makes, over a plaintext channel to `address` (as for an emulator).

    Our backoff's sleeps are recorded; with `real_sleep_cap` they also pass for real (at most that
    long), for faults whose recovery takes real time, such as a gRPC channel reconnecting.
    """

    def make(_region: str) -> Any:
        import grpc
        from google.cloud import aiplatform_v1
        from google.cloud.aiplatform_v1.services.endpoint_service.transports import EndpointServiceGrpcTransport
        from google.cloud.aiplatform_v1.services.model_service.transports import ModelServiceGrpcTransport

        from bqml_text_embeddings.vertex import ops as vertex_ops

        return vertex_ops.Clients(
            models=aiplatform_v1.ModelServiceClient(transport=ModelServiceGrpcTransport(channel=grpc.insecure_channel(address))),
            endpoints=aiplatform_v1.EndpointServiceClient(transport=EndpointServiceGrpcTransport(channel=grpc.insecure_channel(address))),
            sleep=sleep,
        )

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(min(seconds, real_sleep_cap))

    sleeps: list[float] = []
    make.sleeps = sleeps  # type: ignore[attr-defined]
    return make


def preflight_clients(project: str, services: str, resource_manager: str, bigquery_url: str, artifacts: str, quotas: str) -> Any:
    """What stack.preflight.run.make_clients makes, talking to servers on 127.0.0.1.

    REST calls carry a fixed access token (google.oauth2 Credentials with no refresh) and the
    stack's project as quota project, as make_clients gives ADC without one; every registry host
    lands on the Artifact Registry server, and `clients.hosts` records which were asked for.
    """
    import grpc
    from google.auth.transport.requests import AuthorizedSession
    from google.cloud import bigquery, resourcemanager_v3
    from google.cloud.resourcemanager_v3.services.projects.transports import ProjectsGrpcTransport
    from google.oauth2.credentials import Credentials

    from stack.preflight import rest
    from stack.preflight.run import Clients
    from tests.wire.rest_server import TOKEN

    session = AuthorizedSession(Credentials(token=TOKEN, quota_project_id=project))
    hosts: list[str] = []

    def registry(host: str) -> rest.Rest:
        hosts.append(host)
        return rest.Rest(session, artifacts)

    clients = Clients(
        services=rest.Rest(session, services),
        projects=resourcemanager_v3.ProjectsClient(transport=ProjectsGrpcTransport(channel=grpc.insecure_channel(resource_manager))),
        bigquery=bigquery.Client(
            project=project, credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=bigquery_url)
        ),
        artifacts=rest.Rest(session, artifacts),
        registry=registry,
        quotas=rest.Rest(session, quotas),
    )
    clients.hosts = hosts  # type: ignore[attr-defined]
    return clients
