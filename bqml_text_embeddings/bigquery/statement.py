"""A BigQuery statement as a resource: run on create and when it changes, dropped on delete.

State is "this object exists as this statement made it", not "a job ran"
(see pitfalls: gcp.bigquery.Job cannot be deleted, re-run or diffed
sensibly). The statement re-runs only when its text or one of its triggers
changes, or when `pulumi refresh` found the object changed by hand; a change of
the object it makes replaces it. `read` serves `pulumi refresh`: a model or
table dropped by hand leaves the state, and the next `pulumi up` makes it again.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings.bigquery import jobs, sql

COMPONENT_TYPE = "bqml-text-embeddings:bigquery:SqlStatement"
_COMPARED = ("project", "location", "sql", "drop_sql", "wait_for_iam", "triggers", "report_sql")
_DROP_TEMPLATES = {
    "MODEL": ("drop_model", "model"),
    "TABLE": ("drop_table", "table"),
    "TABLE FUNCTION": ("drop_table_function", "function"),
    "PROCEDURE": ("drop_procedure", "procedure"),
    "VIEW": ("drop_view", "view"),
}
Kind = Literal["MODEL", "TABLE", "TABLE FUNCTION", "PROCEDURE", "VIEW", "VECTOR INDEX"]
_REPLACING = ("project", "location", "drop_sql")


def statement_id(drop_sql: str) -> str:
    return "bq-" + hashlib.sha256(drop_sql.encode()).hexdigest()[:20]


class BigQueryStatementProvider(ResourceProvider):
    """Keep this class small and stable: its pickled code is part of every resource's inputs."""

    def __init__(
        self,
        client_factory: Callable[[str, str], Any] = jobs.make_client,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client_factory = client_factory
        self._sleep = sleep

    def _run(self, props: dict[str, Any]) -> dict[str, Any]:
        client = self._client_factory(props["project"], props["location"])
        job_id = jobs.execute(
            client, props["sql"], props["location"], wait_for_iam=bool(props.get("wait_for_iam")), sleep=self._sleep
        )
        outs = {**props, "job_id": job_id, "sql_sha256": hashlib.sha256(props["sql"].encode()).hexdigest()}
        return self._reported(client, outs)

    @staticmethod
    def _reported(client: Any, outs: dict[str, Any]) -> dict[str, Any]:
        """With a `report_sql`, its rows as the `report` output: what the statement made, read back."""
        if not outs.get("report_sql"):
            return outs
        return {**outs, "report": jobs.rows(client, outs["report_sql"], outs["location"])}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(statement_id(props["drop_sql"]), self._run(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        client = self._client_factory(props["project"], props["location"])
        found = jobs.find(client, props["target_kind"], props["target"])
        if found is None:
            return ReadResult("", {})  # gone: the engine drops it from the state
        outs = self._reported(client, {key: value for key, value in props.items() if key != "drift"})
        drift = jobs.mismatch(found, props.get("expect") or {})
        return ReadResult(id_, {**outs, "drift": drift} if drift else outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        if olds.get("drift"):
            changed.append("drift")
        return DiffResult(
            changes=bool(changed),
            replaces=[key for key in changed if key in _REPLACING],
            delete_before_replace=False,
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._run(news))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = self._client_factory(props["project"], props["location"])
        jobs.drop(client, props["drop_sql"], props["location"])


class _Statement(pulumi.dynamic.Resource):
    job_id: pulumi.Output[str]
    sql: pulumi.Output[str]
    report: pulumi.Output[list[dict[str, Any]]]

    def __init__(self, name: str, provider: ResourceProvider, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(provider, name, {**props, "job_id": None, "sql_sha256": None, "report": None}, opts)


class SqlStatement(pulumi.ComponentResource):
    """One statement that makes a MODEL, TABLE, TABLE FUNCTION, PROCEDURE, VIEW or VECTOR INDEX, dropped on delete.

    A VECTOR INDEX names its table as the target (it lives and dies with it, and
    may wait for rows before it exists) and passes its own `drop`.

    `expect` says what a read should find in the made model (`modelUri`,
    `endpoint`); `triggers` are values whose change re-runs an unchanged
    statement (a sample table must be rebuilt when the model it reads is
    replaced); `report_sql` is a query whose rows become the `report` output
    after every run and refresh.
    """

    def __init__(
        self,
        name: str,
        project: str,
        location: str,
        sql_text: pulumi.Input[str],
        makes: tuple[Kind, pulumi.Input[str]],
        expect: pulumi.Input[Mapping[str, str]] | None = None,
        wait_for_iam: bool = False,
        triggers: Sequence[pulumi.Input[str]] = (),
        report_sql: str | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
        drop: pulumi.Input[str] | None = None,
        provider: ResourceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        kind, target = makes
        if drop is None:
            template, target_key = _DROP_TEMPLATES[kind]
            drop = pulumi.Output.from_input(target).apply(lambda made: str(sql.render(template, **{target_key: made})))
        self.statement = _Statement(
            name,
            provider or BigQueryStatementProvider(),
            {
                "project": project,
                "location": location,
                "sql": sql_text,
                "drop_sql": drop,
                "target_kind": kind,
                "target": target,
                "expect": expect or {},
                "wait_for_iam": wait_for_iam,
                "triggers": list(triggers),
                "report_sql": report_sql,
            },
            # On the statement itself: a component's depends_on does not order its children.
            pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
        # What to depend on: done once the statement ran (a component's own URN would not order the job).
        self.ready: pulumi.Resource = self.statement
        self.sql = self.statement.sql
        self.job_id = self.statement.job_id
        self.report = self.statement.report
        self.register_outputs({"sql": self.sql})
