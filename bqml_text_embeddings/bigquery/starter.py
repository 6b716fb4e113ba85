"""A refresh started by `pulumi up` without waiting for it: the first fill of a corpus.

Filling millions of rows takes hours; `pulumi up` starts the refresh procedure
as a BigQuery job and returns. It starts again when the procedure changes (a
new model version re-embeds at once): the job it started before is cancelled
and the lease released (`takeover_sql`), so a run of the old procedure stops at
its next batch instead of labelling the new model's vectors with the old
version. `pulumi destroy` cancels the last job if it still runs, so nothing
keeps billing. The source table was checked before (`SourceTableCheck`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings.bigquery import jobs

_COMPARED = ("project", "location", "sql", "triggers")
JOB_PREFIX = "bqml_text_embeddings_refresh_"


class RefreshStarterProvider(ResourceProvider):
    """Keep this class small and stable: its pickled code is part of every resource's inputs."""

    def __init__(self, client_factory: Callable[[str, str], Any] = jobs.make_client) -> None:
        self._client_factory = client_factory

    def _start(self, props: dict[str, Any]) -> dict[str, Any]:
        client = self._client_factory(props["project"], props["location"])
        return {**props, "job_id": jobs.start(client, props["sql"], props["location"], JOB_PREFIX)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("start-" + hashlib.sha256(props["sql"].encode()).hexdigest()[:20], self._start(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # a started job is history, not state: nothing to drift

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self._client_factory(news["project"], news["location"])
        if olds.get("job_id"):
            jobs.cancel(client, olds["job_id"], olds["location"])
        jobs.execute(client, news["takeover_sql"], news["location"])
        return UpdateResult(self._start(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if props.get("job_id"):
            client = self._client_factory(props["project"], props["location"])
            jobs.cancel(client, props["job_id"], props["location"])


class RefreshStarter(pulumi.dynamic.Resource):
    job_id: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        project: str,
        location: str,
        sql: str,
        takeover_sql: str,
        triggers: Sequence[pulumi.Input[str]],
        provider: ResourceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project": project,
            "location": location,
            "sql": sql,
            "takeover_sql": takeover_sql,
            "triggers": list(triggers),
            "job_id": None,
        }
        super().__init__(provider or RefreshStarterProvider(), name, props, opts)
