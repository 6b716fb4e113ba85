"""Rows carried from one BigQuery location to a table in another, as a resource.

A query reads tables of one location only, so a model that lives in gcp:region
reads rows of a US table (IMDB's reviews) only from a copy beside it. The copy
is made by the deployer's process: the query runs where its tables are, its
rows come back through the client, and a load job (WRITE_TRUNCATE) in the
destination's location replaces the table with them. A few hundred to a few
thousand rows: BigQuery's cross-region table copy is in Preview and copies
whole tables, a Data Transfer Service dataset copy whole datasets (see
docs/bert-placement.md).

The copy is made again when its query or one of its triggers changes (the
table it reads was made again), or when `pulumi refresh` found the table
changed by hand; `read` reports a table dropped by hand as gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings.bigquery import jobs, sql

COMPONENT_TYPE = "bqml-text-embeddings:bigquery:RowCopy"
_COMPARED = ("project", "source_location", "query", "destination", "destination_location", "triggers")
_REPLACING = ("project", "destination", "destination_location")


def copy_id(destination: str) -> str:
    return "rows-" + hashlib.sha256(destination.encode()).hexdigest()[:20]


class RowCopyProvider(ResourceProvider):
    """Keep this class small and stable: its pickled code is part of every resource's inputs."""

    def __init__(self, client_factory: Callable[[str, str], Any] = jobs.make_client) -> None:
        self._client_factory = client_factory

    def _copy(self, props: dict[str, Any]) -> dict[str, Any]:
        job_id, rows = jobs.copy_rows(
            self._client_factory(props["project"], props["source_location"]),
            self._client_factory(props["project"], props["destination_location"]),
            props["query"],
            props["source_location"],
            props["destination"],
            props["destination_location"],
        )
        return {**props, "job_id": job_id, "rows": rows}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(copy_id(props["destination"]), self._copy(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client_factory(props["project"], props["destination_location"])
        found = jobs.find(client, "TABLE", props["destination"])
        if found is None:
            return ReadResult("", {})  # gone: the engine drops it from the state
        outs = {key: value for key, value in props.items() if key != "drift"}
        held, copied = int(found.get("numRows") or 0), int(props["rows"])
        return ReadResult(id_, {**outs, "drift": f"holds {held} rows, not the {copied} copied"} if held != copied else outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        if olds.get("drift"):
            changed.append("drift")
        return DiffResult(changes=bool(changed), replaces=[key for key in changed if key in _REPLACING], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._copy(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = self._client_factory(props["project"], props["destination_location"])
        jobs.drop(client, sql.render("drop_table", table=props["destination"]), props["destination_location"])


class _Copy(pulumi.dynamic.Resource):
    job_id: pulumi.Output[str]

    def __init__(self, name: str, provider: ResourceProvider, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(provider, name, {**props, "job_id": None, "rows": None}, opts)


class RowCopy(pulumi.ComponentResource):
    """The rows of `query` (run in `source_location`) as the table `destination` in `destination_location`.

    `triggers` are values whose change copies again an unchanged query (the table it reads was made again).
    """

    def __init__(
        self,
        name: str,
        project: str,
        query: sql.Fragment,
        source_location: str,
        destination: str,
        destination_location: str,
        triggers: Sequence[pulumi.Input[str]] = (),
        depends_on: Sequence[pulumi.Resource] = (),
        provider: ResourceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        self.table_id = destination
        self.copy = _Copy(
            name,
            provider or RowCopyProvider(),
            {
                "project": project,
                "source_location": source_location,
                "query": query,
                "destination": destination,
                "destination_location": destination_location,
                "triggers": list(triggers),
            },
            # On the copy itself: a component's depends_on does not order its children.
            pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        self.job_id = self.copy.job_id
        self.register_outputs({"table_id": destination})
