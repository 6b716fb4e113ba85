"""A table of yours, kept embedded, indexed and searchable by BigQuery itself: EmbeddedCorpus.

Per corpus: a service account that runs its refreshes with least privilege, a
log of runs, a lease, a check of the source table, and the status and repeated-keys
views. Per model: the embeddings table (the shape LangChain and BigQuery DataFrames
search), a table of rows not embedded yet or failed for good, the refresh
procedure, a scheduled query that calls it, a first fill started by `pulumi up`
without waiting, a vector index made once the table qualifies, and a search
table function.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from bqml_text_embeddings import naming, validate
from bqml_text_embeddings.args import checked, depends, optional
from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Embedder
from bqml_text_embeddings.bigquery.source_table import SourceTableCheck
from bqml_text_embeddings.bigquery.starter import RefreshStarter
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.config import rules
from bqml_text_embeddings.config.corpus_keys import CORPUS
from bqml_text_embeddings.corpus.refresh import Refresh, Source, Tables

TYPE = "bqml-text-embeddings:index:EmbeddedCorpus"
IDENTITY_PROPAGATION = "60s"  # a new service account can be unknown to IAM for a while
# A model's short name becomes part of table and routine names.
MODEL_NAME_RULE = r"[a-z][a-z0-9_]{0,29}"
# The stack's `corpora.NAME` keys (bqml_text_embeddings/config/corpus_keys.py) define the defaults and bounds.
DEFAULTS = {
    snake: CORPUS[camel].default
    for snake, camel in (
        ("max_attempts", "maxAttempts"),
        ("time_budget_minutes", "timeBudgetMinutes"),
        ("index", "index"),
        ("notify_email", "notifyEmail"),
        ("max_delete_percent", "maxDeletePercent"),
    )
}


class EmbeddedCorpusArgs(TypedDict):
    project: str
    """The Google Cloud project of the corpus's dataset, service account and schedule."""
    location: str
    """The dataset's BigQuery location; the source table must be in it too (BigQuery queries within one location)."""
    dataset: pulumi.Input[str]
    """The id of the dataset the corpus's tables, procedures and views are made in (and its models live in)."""
    table: str
    """Your table, project.dataset.table."""
    key: list[str]
    """The column(s) that identify a row: any type BigQuery can group by but FLOAT64 (checked at `pulumi up`)."""
    text: str
    """The STRING column to embed."""
    models: dict[str, pulumi.Input[str]]
    """The models that embed it, by a short name used in table names (e.g. `textembedding`): each a model component's `embeddingModel`."""
    schedule: str
    """When BigQuery's scheduler refreshes it, e.g. `every 24 hours`, `every mon,thu 09:00` (at most every 5 minutes), or `none`: only by hand."""
    connection: NotRequired[pulumi.Input[str]]
    """The BigQuery connection the remote models among `models` call through (the refresher is granted connectionUser on it)."""
    batch_size: NotRequired[int]
    """The most rows a refresh sends to a model per statement (default 100,000 for imported models, 10,000 for remote ones)."""
    max_attempts: NotRequired[int]
    """Runs that may try a row that fails retryably before it counts as failed (default 3, at most 20)."""
    time_budget_minutes: NotRequired[int]
    """A refresh starts no batch after this; the next run goes on (default 180, at most 360)."""
    max_delete_percent: NotRequired[int]
    """A run that would delete more of the corpus than this share deletes nothing and fails (default 10; 100 turns the guard off)."""
    index: NotRequired[str]
    """The vector index on `embedding` (cosine): IVF (the default), TREE_AH or none."""
    newest_by: NotRequired[str]
    """A column whose greatest value marks the newest of several rows with one key, e.g. updated_at."""
    notify_email: NotRequired[bool]
    """BigQuery's failure email for the scheduled query (default false)."""
    notify_topic: NotRequired[str]
    """A Pub/Sub topic, projects/P/topics/T, for a message after every run."""


@dataclass(frozen=True)
class CorpusSpec:
    """The corpus's plain arguments, checked."""

    name: str
    project: str
    location: str
    table: str
    key: tuple[str, ...]
    text: str
    models: tuple[str, ...]
    schedule: str | None  # None: by hand only
    batch_size: int | None
    max_attempts: int
    time_budget_minutes: int
    max_delete_percent: int
    index: str | None  # None: no vector index
    newest_by: str | None
    notify_email: bool
    notify_topic: str | None

    @property
    def source(self) -> Source:
        return Source(self.table, self.key, self.text, self.newest_by)


def _name(rule: str, what: str) -> Callable[[Any], str | None]:
    return lambda value: None if isinstance(value, str) and re.fullmatch(rule, value) else f"{value!r}: {what}"


def spec_of(name: str, args: EmbeddedCorpusArgs, what: str) -> CorpusSpec:
    """The plain arguments, each bad one named on a line of one ArgumentError (`what` names the corpus)."""
    schedule, schedule_error = validate.schedule(args.get("schedule"))
    models = args.get("models")
    checked(
        what,
        {**args, "name": name, "schedule": schedule_error},
        name=validate.corpus_name,
        project=validate.project_id,
        location=validate.location,
        table=validate.table_ref,
        key=validate.columns,
        text=validate.column,
        models=lambda value: None
        if isinstance(value, dict) and value and all(not _name(MODEL_NAME_RULE, "")(m) for m in value)
        else f"{value!r}: give the models by short names of a-z, 0-9 and _ (each a model component's embeddingModel)",
        schedule=lambda error: error,
        batch_size=optional(lambda value: validate.whole(value, 1, rules.MAX_BATCH_SIZE)),
        max_attempts=optional(lambda value: validate.whole(value, 1, rules.MAX_ATTEMPTS)),
        time_budget_minutes=optional(lambda value: validate.whole(value, 1, rules.MAX_TIME_BUDGET_MINUTES)),
        max_delete_percent=optional(lambda value: validate.whole(value, 0, rules.MAX_DELETE_PERCENT)),
        index=optional(lambda value: validate.one_of(value, (*rules.INDEX_TYPES, rules.NO_INDEX))),
        newest_by=optional(validate.column),
        notify_email=optional(validate.boolean),
        notify_topic=optional(validate.pubsub_topic),
    )
    merged = {**DEFAULTS, **{k: v for k, v in args.items() if v is not None}}
    return CorpusSpec(
        name=name,
        project=args["project"],
        location=args["location"],
        table=args["table"],
        key=tuple(args["key"]),
        text=args["text"],
        models=tuple(models),
        schedule=schedule,
        batch_size=validate.as_int(args["batch_size"]) if args.get("batch_size") is not None else None,
        max_attempts=validate.as_int(merged["max_attempts"]),
        time_budget_minutes=validate.as_int(merged["time_budget_minutes"]),
        max_delete_percent=validate.as_int(merged["max_delete_percent"]),
        index=None if merged["index"] == rules.NO_INDEX else merged["index"],
        newest_by=args.get("newest_by"),
        notify_email=merged["notify_email"],
        notify_topic=args.get("notify_topic"),
    )


class EmbeddedCorpus(pulumi.ComponentResource):
    """Your table kept embedded by each of its models as rows arrive, change and leave: embeddings tables LangChain and BigQuery DataFrames search as they are, a refresh procedure on BigQuery's scheduler, a vector index, a search table function, and a status view."""

    status_view: pulumi.Output[str]
    """The view of the corpus at a glance, one row per model: source rows = embedded + pending + failed, reasons, the last refresh."""
    status_query: pulumi.Output[str]
    """A query of the status view, ready to run."""
    repeated_keys_view: pulumi.Output[str]
    """The view of keys the source holds in more than one row (only one of them is embedded)."""
    refresher: pulumi.Output[str]
    """The email of the service account the refreshes run as."""
    tables: pulumi.Output[dict[str, str]]
    """Each model's embeddings table (doc_id, content, embedding, …), by model."""
    failures: pulumi.Output[dict[str, str]]
    """Each model's table of rows not embedded yet or failed for good, with the reason, by model."""
    search_queries: pulumi.Output[dict[str, str]]
    """Each model's search, with parameters @query and @k, by model."""
    search_functions: pulumi.Output[dict[str, str]]
    """Each model's search table function, SELECT * FROM f('text', 10), by model."""
    refresh_now: pulumi.Output[dict[str, str]]
    """The CALL that refreshes the corpus with each model now, by model."""
    model_versions: pulumi.Output[dict[str, str]]
    """The version of each model the corpus is embedded with (searches read only rows of it), by model."""

    def __init__(
        self, name: str, args: EmbeddedCorpusArgs, opts: pulumi.ResourceOptions | None = None, *, named_as: str | None = None
    ) -> None:
        """`named_as`: how errors name this corpus (a program that reads it from its config names the config key)."""
        what = named_as or f"EmbeddedCorpus {name}"
        spec = spec_of(name, args, what)
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        dataset = pulumi.Output.from_input(args["dataset"])
        dataset_path = dataset.apply(lambda d: f"{spec.project}.{d}")
        stack = pulumi.get_stack()
        self.refresher_component = Refresher(spec, dataset, dataset_path, args.get("connection"), depends(opts), stack, child)
        # `pulumi up` stops here, naming the argument, if the table is elsewhere or its columns cannot serve.
        self.source_check = SourceTableCheck(
            f"{name}-source-table",
            project=spec.project,
            location=spec.location,
            table=spec.table,
            key=spec.key,
            text=spec.text,
            newest_by=spec.newest_by,
            setting=what,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends(opts)),
        )
        runs = dataset_path.apply(lambda dp: naming.corpus_runs_table(dp, name))
        lease = dataset_path.apply(lambda dp: naming.corpus_lease_table(dp, name))
        shared: list[pulumi.Resource] = []
        for suffix, table, template in (("refresh-runs", runs, "corpus/runs_table"), ("refresh-lease", lease, "corpus/lease_table")):
            made = SqlStatement(
                f"{name}-{suffix}",
                project=spec.project,
                location=spec.location,
                sql_text=table.apply(lambda t, template=template: str(sql.render(template, table=t, corpus=name))),
                makes=("TABLE", table),
                depends_on=depends(opts),
                opts=child,
            )
            shared.append(made.ready)
            self.refresher_component.grants.append(self.refresher_component.may_write(f"{name}-{suffix}", table, made))

        self.parts = {
            model: CorpusModel(
                spec,
                model,
                pulumi.Output.from_input(reference).apply(Embedder.from_reference),
                dataset_path,
                dataset_path.apply(
                    lambda dp, model=model: Tables(
                        embeddings=naming.corpus_embeddings_table(dp, name, model),
                        failures=naming.corpus_failures_table(dp, name, model),
                        runs=naming.corpus_runs_table(dp, name),
                        lease=naming.corpus_lease_table(dp, name),
                    )
                ),
                self.refresher_component,
                [*shared, self.source_check, *depends(opts)],
                stack,
                child,
            )
            for model, reference in args["models"].items()
        }
        view_id = dataset_path.apply(lambda dp: naming.corpus_status_view(dp, name))
        self.view = SqlStatement(
            f"{name}-status-view",
            project=spec.project,
            location=spec.location,
            sql_text=pulumi.Output.all(view_id, *(part.plan for part in self.parts.values())).apply(
                lambda values: str(
                    sql.render("corpus/status_view", corpus=name, view=values[0], models=sql.union_all(p.status() for p in values[1:]))
                )
            ),
            makes=("VIEW", view_id),
            depends_on=[*shared, *(s for part in self.parts.values() for s in (part.embeddings.ready, part.failures.ready))],
            opts=child,
        )
        self.status_view = view_id
        self.status_query = view_id.apply(lambda v: str(sql.render("corpus/status_query", view=v)))
        self.repeated_keys_view = dataset_path.apply(lambda dp: naming.corpus_repeated_keys_view(dp, name))
        self.repeated_keys = SqlStatement(
            f"{name}-repeated-keys-view",
            project=spec.project,
            location=spec.location,
            sql_text=self.repeated_keys_view.apply(
                lambda v: str(
                    sql.render(
                        "corpus/repeated_keys_view",
                        corpus=name,
                        view=v,
                        source_table=spec.table,
                        repeated_keys=spec.source.repeated_keys(),
                    )
                )
            ),
            makes=("VIEW", self.repeated_keys_view),
            depends_on=[*depends(opts), self.source_check],
            opts=child,
        )
        self.refresher = self.refresher_component.email

        def by_model(pick: Callable[["CorpusModel"], pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
            return pulumi.Output.from_input({model: pick(part) for model, part in self.parts.items()})

        self.tables = by_model(lambda part: part.tables.apply(lambda t: t.embeddings))
        self.failures = by_model(lambda part: part.tables.apply(lambda t: t.failures))
        self.search_queries = by_model(lambda part: part.search_query)
        self.search_functions = by_model(lambda part: part.function_id)
        self.refresh_now = by_model(lambda part: part.refresh_now)
        self.model_versions = by_model(lambda part: part.model_version)
        self.register_outputs(
            {
                "status_view": self.status_view,
                "status_query": self.status_query,
                "repeated_keys_view": self.repeated_keys_view,
                "refresher": self.refresher,
                "tables": self.tables,
                "failures": self.failures,
                "search_queries": self.search_queries,
                "search_functions": self.search_functions,
                "refresh_now": self.refresh_now,
                "model_versions": self.model_versions,
            }
        )


class CorpusModel(pulumi.ComponentResource):
    """One model's embeddings of a corpus, kept current."""

    def __init__(
        self,
        spec: CorpusSpec,
        model: str,
        embedder: pulumi.Output[Embedder],
        dataset_path: pulumi.Output[str],
        tables: pulumi.Output[Tables],
        refresher: "Refresher",
        after: list[pulumi.Resource],
        stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        name = f"{spec.name}-{model}"
        super().__init__("bqml-text-embeddings:bigquery:CorpusModel", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.tables = tables
        self.procedure_id = dataset_path.apply(lambda dp: naming.corpus_refresh_procedure(dp, spec.name, model))
        self.function_id = dataset_path.apply(lambda dp: naming.corpus_search_function(dp, spec.name, model))

        def statement(suffix: str, text: pulumi.Input[str], makes: tuple, depends_on: list, **extra: object) -> SqlStatement:
            return SqlStatement(
                f"{name}-{suffix}",
                project=spec.project,
                location=spec.location,
                sql_text=text,
                makes=makes,
                depends_on=depends_on,
                opts=child,
                **extra,  # type: ignore[arg-type]
            )

        def table_statement(part: str, template: str) -> SqlStatement:
            table = tables.apply(lambda t: getattr(t, part))
            return statement(
                f"{part}-table",
                pulumi.Output.all(table, self.procedure_id).apply(
                    lambda values: str(
                        sql.render(
                            template, table=values[0], corpus=spec.name, model=model, source_table=spec.table, procedure=values[1]
                        )
                    )
                ),
                ("TABLE", table),
                after,
            )

        self.embeddings = table_statement("embeddings", "corpus/embeddings_table")
        self.failures = table_statement("failures", "corpus/failures_table")
        self.grants = [
            refresher.may_write(f"{name}-{part}", tables.apply(lambda t, part=part: getattr(t, part)), made)
            for part, made in (("embeddings", self.embeddings), ("failures", self.failures))
        ]
        # The model's version is its SQL (and deployment): when it changes, every row is embedded again.
        self.model_version = embedder.apply(lambda e: e.version)
        self.plan = pulumi.Output.all(embedder, tables, self.procedure_id).apply(
            lambda values: Refresh(
                corpus=spec.name,
                model=model,
                source=spec.source,
                tables=values[1],
                embedder=values[0],
                model_version=values[0].version,
                batch_size=spec.batch_size or (rules.REMOTE_BATCH_SIZE if values[0].remote else rules.IMPORTED_BATCH_SIZE),
                max_attempts=spec.max_attempts,
                time_budget_minutes=spec.time_budget_minutes,
                max_delete_percent=spec.max_delete_percent,
                index_type=spec.index,
                index_name=naming.corpus_index(spec.name, model),
                procedure_id=values[2],
                location=spec.location,
            )
        )
        plan = self.plan
        self.procedure = statement(
            "refresh-procedure",
            plan.apply(lambda p: str(p.procedure())),
            ("PROCEDURE", self.procedure_id),
            [self.embeddings.ready, self.failures.ready, *after],
        )
        if spec.index is not None:
            # The procedure makes the index once the table qualifies; this declares it, rebuilds it when its
            # options change, and drops it on destroy (no Pulumi or Terraform resource makes one).
            self.index = statement(
                "vector-index",
                plan.apply(lambda p: str(p.index(replace=True))),
                ("VECTOR INDEX", tables.apply(lambda t: t.embeddings)),
                [self.embeddings.ready],
                drop=tables.apply(
                    lambda t: str(sql.render("corpus/drop_vector_index", index=naming.corpus_index(spec.name, model), table=t.embeddings))
                ),
            )
        self.search_query = plan.apply(lambda p: p.search.query())
        self.search_function = statement(
            "search-function",
            pulumi.Output.all(plan, self.function_id).apply(lambda values: values[0].search.function(values[1])),
            ("TABLE FUNCTION", self.function_id),
            [self.embeddings.ready, *after],
        )

        self.refresh_now = self.procedure_id.apply(
            lambda procedure: str(sql.render("corpus/refresh_now", corpus=spec.name, model=model, procedure=procedure))
        )
        # BigQuery's own scheduler runs the refresh as the corpus's service account; with schedule
        # "none" it never runs by itself, but "Run now" in the console still runs it that way.
        self.schedule = gcp.bigquery.DataTransferConfig(
            f"{name}-refresh-schedule",
            project=spec.project,
            location=spec.location,
            display_name=f"bqml-text-embeddings {stack}: refresh {spec.name} with {model}",
            data_source_id="scheduled_query",
            schedule=spec.schedule,
            schedule_options=None if spec.schedule else gcp.bigquery.DataTransferConfigScheduleOptionsArgs(disable_auto_scheduling=True),
            params={"query": self.refresh_now},
            service_account_name=refresher.email,
            # Only when on: the API omits a false preference, which would diff on every `up`.
            email_preferences=gcp.bigquery.DataTransferConfigEmailPreferencesArgs(enable_failure_email=True) if spec.notify_email else None,
            notification_pubsub_topic=spec.notify_topic,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.procedure.ready, *refresher.grants, *self.grants, *after]),
        )
        if spec.schedule is not None:
            # The first fill: started now, not awaited; again whenever the procedure changes.
            self.first_fill = RefreshStarter(
                f"{name}-first-fill",
                project=spec.project,
                location=spec.location,
                sql=self.refresh_now,
                takeover_sql=tables.apply(lambda t: str(sql.render("corpus/lease_takeover", lease=t.lease, model=model))),
                triggers=[self.procedure.sql],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.procedure.ready]),
            )
        self.register_outputs({"table": tables.apply(lambda t: t.embeddings), "procedure": self.procedure_id})


class Refresher(pulumi.ComponentResource):
    """The identity a corpus's refreshes run as, and exactly what it may do (non-authoritative members)."""

    def __init__(
        self,
        spec: CorpusSpec,
        dataset: pulumi.Output[str],
        dataset_path: pulumi.Output[str],
        connection: pulumi.Input[str] | None,
        apis: list[pulumi.Resource],
        stack: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:iam:CorpusRefresher", f"{spec.name}-refresher", None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{spec.name}-refresher",
            project=spec.project,
            account_id=dataset_path.apply(lambda dp: naming.corpus_service_account_id(dp, spec.name)),
            display_name=f"bqml-text-embeddings: refreshes corpus {spec.name}",
            description=dataset_path.apply(lambda dp: f"Runs the scheduled refresh of {spec.table} into {dp} (Pulumi stack {stack})"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=apis),
        )
        self.email = self.account.email
        self.member = pulumi.Output.concat("serviceAccount:", self.account.email)
        # A new account can be unknown to IAM for a while, and the provider retries that only if the
        # policy changed meanwhile (see pitfalls): wait once, when the identity is new.
        self.propagation = pulumi_time.Sleep(
            f"{spec.name}-refresher-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"email": self.account.email},
            opts=pulumi.ResourceOptions(parent=self),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.propagation])
        source_project, source_dataset, source_table = spec.table.rsplit(".", 2)  # a project may be example.com:name
        self.grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{spec.name}-refresher-runs-jobs", project=spec.project, role="roles/bigquery.jobUser", member=self.member, opts=after
            ),
            # The models and the procedure: BigQuery ML has no per-model IAM, so read on the corpus's dataset.
            gcp.bigquery.DatasetIamMember(
                f"{spec.name}-refresher-reads-models",
                project=spec.project,
                dataset_id=dataset,
                role="roles/bigquery.dataViewer",
                member=self.member,
                opts=after,
            ),
            gcp.bigquery.IamMember(
                f"{spec.name}-refresher-reads-source",
                project=source_project,
                dataset_id=source_dataset,
                table_id=source_table,
                role="roles/bigquery.dataViewer",
                member=self.member,
                opts=after,
            ),
        ]
        if connection is not None:
            # project.location.connection_id; the connection is in the dataset's location, as BigQuery requires.
            parts = pulumi.Output.from_input(connection).apply(lambda ref: ref.split("."))
            self.grants.append(
                gcp.bigquery.ConnectionIamMember(
                    f"{spec.name}-refresher-uses-connection",
                    project=parts.apply(lambda p: p[0]),
                    location=spec.location,
                    connection_id=parts.apply(lambda p: p[2]),
                    role="roles/bigquery.connectionUser",
                    member=self.member,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[self.propagation, *apis]),
                )
            )
        self.register_outputs({"email": self.email})

    def may_write(self, name: str, table: pulumi.Output[str], statement: SqlStatement) -> pulumi.Resource:
        """Data Editor on one table the refresh writes (also lets it make the table's vector index)."""
        parts = table.apply(lambda t: t.rsplit(".", 2))
        return gcp.bigquery.IamMember(
            f"{name}-refresher-writes",
            project=parts.apply(lambda p: p[0]),
            dataset_id=parts.apply(lambda p: p[1]),
            table_id=parts.apply(lambda p: p[2]),
            role="roles/bigquery.dataEditor",
            member=self.member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.propagation, statement.ready]),
        )
