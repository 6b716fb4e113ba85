"""Beyond the tutorial: a table of the user's, kept embedded, indexed and searchable by BigQuery itself.

Per corpus: a service account that runs its refreshes with least privilege, a
log of runs, a lease, and a status view. Per chosen model: the embeddings
table (the shape LangChain and BigQuery DataFrames search), a table of rows not
embedded yet or failed for good, the refresh procedure, a scheduled query
that calls it, a first fill started by `pulumi up` without waiting, a vector
index made once the table qualifies, and a search table function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from bqml_text_embeddings import naming
from bqml_text_embeddings.bigquery import refresh, sql
from bqml_text_embeddings.bigquery.refresh import Refresh, Source, Tables
from bqml_text_embeddings.bigquery.source_table import SourceTableCheck
from bqml_text_embeddings.bigquery.starter import RefreshStarter
from bqml_text_embeddings.bigquery.statement import SqlStatement
from bqml_text_embeddings.steps.samples import ServedModel
from bqml_text_embeddings.steps.vertex_connection import VertexConnection
from stack.config import NAMESPACE, CorpusSettings

IDENTITY_PROPAGATION = "60s"  # a new service account can be unknown to IAM for a while
REMOTE_MODELS = ("bert", "textembedding")


@dataclass(frozen=True)
class Place:
    """Where a corpus lives: the stack's project, location and dataset."""

    project: str
    location: str
    dataset: gcp.bigquery.Dataset
    dataset_path: str  # project.dataset
    stack: str
    apis: tuple[pulumi.Resource, ...]  # IAM and BigQuery Data Transfer, which a corpus needs enabled


class CorpusModel(pulumi.ComponentResource):
    """One model's embeddings of a corpus, kept current."""

    def __init__(
        self,
        corpus: CorpusSettings,
        model: str,
        served: ServedModel,
        place: Place,
        tables: Tables,
        refresher: Refresher,
        source_check: SourceTableCheck,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        name = f"{corpus.name}-{model}"
        super().__init__("bqml-text-embeddings:bigquery:CorpusModel", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.tables = tables
        self.procedure_id = naming.corpus_refresh_procedure(place.dataset_path, corpus.name, model)
        self.function_id = naming.corpus_search_function(place.dataset_path, corpus.name, model)

        def statement(suffix: str, text: pulumi.Input[str], makes: tuple, after: list, **extra: object) -> SqlStatement:
            return SqlStatement(
                f"{name}-{suffix}",
                project=place.project,
                location=place.location,
                sql_text=text,
                makes=makes,
                depends_on=after,
                opts=child,
                **extra,  # type: ignore[arg-type]
            )

        table_params = {"corpus": corpus.name, "model": model, "source_table": corpus.table, "procedure": self.procedure_id}
        self.embeddings = statement(
            "embeddings-table",
            sql.render("corpus/embeddings_table", table=tables.embeddings, **table_params),
            ("TABLE", tables.embeddings),
            [place.dataset],
        )
        self.failures = statement(
            "failures-table",
            sql.render("corpus/failures_table", table=tables.failures, **table_params),
            ("TABLE", tables.failures),
            [place.dataset],
        )

        self.grants = [
            refresher.may_write(f"{name}-{label}", table, statement)
            for label, table, statement in (("embeddings", tables.embeddings, self.embeddings), ("failures", tables.failures, self.failures))
        ]

        # The model's version is its SQL (and deployment): when it changes, every row is embedded again.
        version = pulumi.Output.all(*served.versions).apply(lambda versions: refresh.model_version([str(v) for v in versions]))
        plan = version.apply(
            lambda v: Refresh(
                corpus=corpus.name,
                model=model,
                source=source_of(corpus),
                tables=tables,
                embedder=served.embedder,
                model_version=v,
                batch_size=corpus.batch_size(model),
                max_attempts=corpus.max_attempts,
                time_budget_minutes=corpus.time_budget_minutes,
                max_delete_percent=corpus.max_delete_percent,
                index_type=corpus.index,
                index_name=naming.corpus_index(corpus.name, model),
                procedure_id=self.procedure_id,
                location=place.location,
            )
        )
        self.model_version = version
        self.plan = plan
        self.procedure = statement(
            "refresh-procedure",
            plan.apply(lambda p: str(p.procedure())),
            ("PROCEDURE", self.procedure_id),
            [self.embeddings.statement, self.failures.statement, *refresher.tables, served.statement.statement, source_check],
        )
        if corpus.index is not None:
            # The procedure makes the index once the table qualifies; this declares it, rebuilds it when its
            # options change, and drops it on destroy (no Pulumi or Terraform resource makes one).
            self.index = statement(
                "vector-index",
                plan.apply(lambda p: str(p.index(replace=True))),
                ("VECTOR INDEX", tables.embeddings),
                [self.embeddings.statement],
                drop=sql.render("corpus/drop_vector_index", index=naming.corpus_index(corpus.name, model), table=tables.embeddings),
            )
        self.search_query = plan.apply(
            lambda p: str(sql.render("corpus/search_query", corpus=corpus.name, model=model, search=p.search("@query", "@k")))
        )
        self.search_function = statement(
            "search-function",
            plan.apply(
                lambda p: str(
                    sql.render(
                        "corpus/search_function",
                        corpus=corpus.name,
                        model=model,
                        function=self.function_id,
                        search=p.search("query_text", "k"),
                    )
                )
            ),
            ("TABLE FUNCTION", self.function_id),
            [self.embeddings.statement, served.statement.statement],
        )

        self.refresh_now = str(sql.render("corpus/refresh_now", corpus=corpus.name, model=model, procedure=self.procedure_id))
        # BigQuery's own scheduler runs the refresh as the corpus's service account; with schedule
        # "none" it never runs by itself, but "Run now" in the console still runs it that way.
        self.schedule = gcp.bigquery.DataTransferConfig(
            f"{name}-refresh-schedule",
            project=place.project,
            location=place.location,
            display_name=f"bqml-text-embeddings {place.stack}: refresh {corpus.name} with {model}",
            data_source_id="scheduled_query",
            schedule=corpus.schedule,
            schedule_options=None if corpus.schedule else gcp.bigquery.DataTransferConfigScheduleOptionsArgs(disable_auto_scheduling=True),
            params={"query": self.refresh_now},
            service_account_name=refresher.email,
            # Only when on: the API omits a false preference, which would diff on every `up`.
            email_preferences=gcp.bigquery.DataTransferConfigEmailPreferencesArgs(enable_failure_email=True) if corpus.notify_email else None,
            notification_pubsub_topic=corpus.notify_topic,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.procedure.statement, *refresher.grants, *self.grants, *place.apis]),
        )
        if corpus.schedule is not None:
            # The first fill: started now, not awaited; again whenever the procedure changes.
            self.first_fill = RefreshStarter(
                f"{name}-first-fill",
                project=place.project,
                location=place.location,
                sql=self.refresh_now,
                takeover_sql=str(sql.render("corpus/lease_takeover", lease=tables.lease, model=model)),
                triggers=[self.procedure.sql],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.procedure.statement]),
            )
        self.register_outputs({"table": tables.embeddings, "procedure": self.procedure_id})


class Refresher(pulumi.ComponentResource):
    """The identity a corpus's refreshes run as, and exactly what it may do (non-authoritative members)."""

    def __init__(
        self,
        corpus: CorpusSettings,
        place: Place,
        connection: VertexConnection | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:iam:CorpusRefresher", f"{corpus.name}-refresher", None, opts)
        self.account = gcp.serviceaccount.Account(
            f"{corpus.name}-refresher",
            project=place.project,
            account_id=naming.corpus_service_account_id(place.dataset_path, corpus.name),
            display_name=f"bqml-text-embeddings: refreshes corpus {corpus.name}",
            description=f"Runs the scheduled refresh of {corpus.table} into {place.dataset_path} (Pulumi stack {place.stack})",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(place.apis)),
        )
        self.email = self.account.email
        self.member = pulumi.Output.concat("serviceAccount:", self.account.email)
        # A new account can be unknown to IAM for a while, and the provider retries that only if the
        # policy changed meanwhile (see pitfalls): wait once, when the identity is new.
        self.propagation = pulumi_time.Sleep(
            f"{corpus.name}-refresher-identity-propagation",
            create_duration=IDENTITY_PROPAGATION,
            triggers={"email": self.account.email},
            opts=pulumi.ResourceOptions(parent=self),
        )
        after = pulumi.ResourceOptions(parent=self, depends_on=[self.propagation])
        source_project, source_dataset, source_table = corpus.table.rsplit(".", 2)  # a project may be example.com:name
        self.grants: list[pulumi.Resource] = [
            gcp.projects.IAMMember(
                f"{corpus.name}-refresher-runs-jobs", project=place.project, role="roles/bigquery.jobUser", member=self.member, opts=after
            ),
            # The models and the procedure: BigQuery ML has no per-model IAM, so read on the stack's dataset.
            gcp.bigquery.DatasetIamMember(
                f"{corpus.name}-refresher-reads-models",
                project=place.project,
                dataset_id=place.dataset.dataset_id,
                role="roles/bigquery.dataViewer",
                member=self.member,
                opts=after,
            ),
            gcp.bigquery.IamMember(
                f"{corpus.name}-refresher-reads-source",
                project=source_project,
                dataset_id=source_dataset,
                table_id=source_table,
                role="roles/bigquery.dataViewer",
                member=self.member,
                opts=after,
            ),
        ]
        if connection is not None and any(model in REMOTE_MODELS for model in corpus.models):
            self.grants.append(
                gcp.bigquery.ConnectionIamMember(
                    f"{corpus.name}-refresher-uses-connection",
                    project=place.project,
                    location=place.location,
                    connection_id=connection.connection.connection_id,
                    role="roles/bigquery.connectionUser",
                    member=self.member,
                    opts=after,
                )
            )
        self.tables: list[pulumi.Resource] = []
        self.register_outputs({"email": self.email})

    def may_write(self, name: str, table: str, statement: SqlStatement) -> pulumi.Resource:
        """Data Editor on one table the refresh writes (also lets it make the table's vector index)."""
        project, dataset, table_id = table.rsplit(".", 2)
        return gcp.bigquery.IamMember(
            f"{name}-refresher-writes",
            project=project,
            dataset_id=dataset,
            table_id=table_id,
            role="roles/bigquery.dataEditor",
            member=self.member,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.propagation, statement.statement]),
        )


class Corpus(pulumi.ComponentResource):
    """A user's table, kept embedded by each of its models; its status view across them."""

    def __init__(
        self,
        corpus: CorpusSettings,
        place: Place,
        served: Mapping[str, ServedModel],
        connection: VertexConnection | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("bqml-text-embeddings:bigquery:Corpus", corpus.name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.refresher = Refresher(corpus, place, connection, child)
        # `pulumi up` stops here, naming the setting, if the table is elsewhere or its columns cannot serve.
        self.source_check = SourceTableCheck(
            f"{corpus.name}-source-table",
            project=place.project,
            location=place.location,
            table=corpus.table,
            key=corpus.key,
            text=corpus.text,
            newest_by=corpus.newest_by,
            setting=f"{NAMESPACE}:corpora.{corpus.name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(place.apis)),
        )
        runs = naming.corpus_runs_table(place.dataset_path, corpus.name)
        lease = naming.corpus_lease_table(place.dataset_path, corpus.name)
        for suffix, table, template in (("refresh-runs", runs, "corpus/runs_table"), ("refresh-lease", lease, "corpus/lease_table")):
            made = SqlStatement(
                f"{corpus.name}-{suffix}",
                project=place.project,
                location=place.location,
                sql_text=sql.render(template, table=table, corpus=corpus.name),
                makes=("TABLE", table),
                depends_on=[place.dataset],
                opts=child,
            )
            self.refresher.tables.append(made.statement)
            self.refresher.grants.append(self.refresher.may_write(f"{corpus.name}-{suffix}", table, made))

        self.models = {
            model: CorpusModel(
                corpus,
                model,
                served[model],
                place,
                Tables(
                    embeddings=naming.corpus_embeddings_table(place.dataset_path, corpus.name, model),
                    failures=naming.corpus_failures_table(place.dataset_path, corpus.name, model),
                    runs=runs,
                    lease=lease,
                ),
                self.refresher,
                self.source_check,
                child,
            )
            for model in corpus.models
        }
        self.view_id = naming.corpus_status_view(place.dataset_path, corpus.name)
        rows = pulumi.Output.all(*(m.plan for m in self.models.values())).apply(
            lambda plans: str(
                sql.render("corpus/status_view", corpus=corpus.name, view=self.view_id, models=sql.union_all(p.status() for p in plans))
            )
        )
        self.view = SqlStatement(
            f"{corpus.name}-status-view",
            project=place.project,
            location=place.location,
            sql_text=rows,
            makes=("VIEW", self.view_id),
            depends_on=[*self.refresher.tables, *(s for m in self.models.values() for s in (m.embeddings.statement, m.failures.statement))],
            opts=child,
        )
        self.status_query = str(sql.render("corpus/status_query", view=self.view_id))
        self.repeated_keys_view_id = naming.corpus_repeated_keys_view(place.dataset_path, corpus.name)
        self.repeated_keys_view = SqlStatement(
            f"{corpus.name}-repeated-keys-view",
            project=place.project,
            location=place.location,
            sql_text=sql.render(
                "corpus/repeated_keys_view",
                corpus=corpus.name,
                view=self.repeated_keys_view_id,
                source_table=corpus.table,
                repeated_keys=source_of(corpus).repeated_keys(),
            ),
            makes=("VIEW", self.repeated_keys_view_id),
            depends_on=[place.dataset, self.source_check],
            opts=child,
        )
        self.register_outputs({"status_view": self.view_id})


def source_of(corpus: CorpusSettings) -> Source:
    return Source(corpus.table, corpus.key, corpus.text, corpus.newest_by)
