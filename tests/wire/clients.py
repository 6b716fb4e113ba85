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
