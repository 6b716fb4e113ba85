"""A project for `./dev preflight` on 127.0.0.1: every API it reads, served by tests/wire, set up ready for `pulumi up`.

`World.ready()` starts the servers with everything in place for `STACK_CONFIG` (the APIs on,
every permission held, the tables where they belong, the image resolvable, quotas that fit); a
test then takes one thing away and runs the preflight through the real client libraries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack.preflight import apis, permissions, report, run, stack_config
from tests.pulumi_harness import to_config
from tests.wire.bigquery_server import BigQueryServer
from tests.wire.clients import preflight_clients
from tests.wire.preflight_servers import ArtifactRegistryServer, CloudQuotasServer, ResourceManagerServer, ServiceUsageServer

PROJECT = "my-proj-123"
SOURCE = "acme-data.support.tickets"
IMDB = "bigquery-public-data.imdb.reviews"
REPOSITORY = "bqml-te-dev"  # naming.serving_repository_id("dev")
TF_SERVING = "tensorflow/serving:2.20.0"
DIGEST = "sha256:" + "ab" * 32
STACK_CONFIG: dict[str, Any] = {
    "gcp:project": PROJECT,
    "models": ["nnlm", "bert", "textembedding"],
    "corpora": {"tickets": {"table": SOURCE, "key": ["ticket_id"], "text": "body", "models": ["nnlm", "textembedding"], "schedule": "every 24 hours"}},
}
SOURCE_FIELDS = [
    {"name": "ticket_id", "type": "INTEGER", "mode": "REQUIRED"},
    {"name": "body", "type": "STRING", "mode": "NULLABLE"},
    {"name": "updated_at", "type": "TIMESTAMP", "mode": "NULLABLE"},
]
SOURCE_ROWS = 1_200_000
REQUESTS = "aiplatform.googleapis.com/online_prediction_requests_per_base_model"
CPUS = "aiplatform.googleapis.com/custom_model_serving_cpus"


def pulumi_json(values: dict[str, Any]) -> dict[str, Any]:
    """`pulumi config --json` for a stack with these values: each key's string as the engine holds it, objects also parsed."""
    out = {}
    for key, text in to_config(values).items():
        entry: dict[str, Any] = {"value": text, "secret": False}
        if text[:1] in "[{":
            entry["objectValue"] = json.loads(text)
        out[key] = entry
    return out


@dataclass
class World:
    services: ServiceUsageServer
    projects: ResourceManagerServer
    bigquery: BigQueryServer
    artifacts: ArtifactRegistryServer
    quotas: CloudQuotasServer
    last_clients: Any = None

    @classmethod
    def ready(cls, values: dict[str, Any] = STACK_CONFIG) -> World:
        settings = stack_config.settings_from(pulumi_json(values), {})
        every_permission = {p for need in permissions.NEEDS for p in need.permissions}
        world = cls(
            services=ServiceUsageServer(PROJECT, {*apis.MUST_BE_ON, *apis.stack_apis(settings), apis.QUOTAS_API}).start(),
            projects=ResourceManagerServer(PROJECT, every_permission).start(),
            bigquery=BigQueryServer(PROJECT).start(),
            artifacts=ArtifactRegistryServer(PROJECT).start(),
            quotas=CloudQuotasServer(PROJECT).start(),
        )
        world.add_source(SOURCE, "US", SOURCE_FIELDS, SOURCE_ROWS)
        world.add_source(IMDB, "US", [{"name": "review", "type": "STRING"}, {"name": "label", "type": "STRING"}], 100_000)
        world.artifacts.add_remote_repository("us-central1", REPOSITORY)
        world.artifacts.docker_hub[TF_SERVING] = DIGEST
        world.quotas.add("ResourceManagementRequestsPerMinutePerProjectPerRegion", "aiplatform.googleapis.com/resource_management_requests", ["region"], [({}, 600)])
        world.quotas.add(
            "OnlinePredictionRequestsPerMinutePerProjectPerRegionPerBaseModel", REQUESTS, ["region", "base_model"],
            [({}, 60), ({"region": "us-central1", "base_model": "textembedding-gecko"}, 1500), ({"region": "europe-west4", "base_model": "textembedding-gecko"}, 5)],
        )
        world.quotas.add("CustomModelServingCPUsPerProjectPerRegion", CPUS, ["region"], [({}, 8), ({"region": "us-central1"}, 8)])
        return world

    def add_source(self, table: str, location: str, fields: list[dict[str, str]], rows: int | None) -> None:
        self.bigquery.add_table(table, location, fields)
        if rows is not None:
            self.bigquery.tables[table]["numRows"] = str(rows)

    def clients(self) -> run.Clients:
        return preflight_clients(
            PROJECT, self.services.url, self.projects.address, self.bigquery.url, self.artifacts.url, self.quotas.url
        )

    def run(self, values: dict[str, Any] = STACK_CONFIG, stack: str = "dev") -> list[report.Line]:
        settings = stack_config.settings_from(pulumi_json(values), {})
        self.last_clients = self.clients()
        return run.run(stack_config.Stack(stack, settings, "test"), self.last_clients)

    def problems(self) -> list[str]:
        return [*self.services.problems, *self.bigquery.problems, *self.artifacts.problems, *self.quotas.problems]

    def stop(self) -> None:
        for server in (self.services, self.projects, self.bigquery, self.artifacts, self.quotas):
            server.stop()


def lines_of(lines: list[report.Line], check: str, status: str | None = None) -> list[str]:
    return [line.text for line in lines if line.check == check and (status is None or line.status == status)]


def write_config(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(json.dumps(pulumi_json(values)), encoding="utf-8")
    return path
