"""Corpora under the SDK's mocks: every resource a corpus declares, its inputs, its grants and its order.

Statements are parsed by GoogleSQL's own parser (ZetaSQL, which reads the
procedure's script too) and, where sqlglot's BigQuery dialect knows the
statement, by that as well, to assert their parts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlglot import exp

from bqml_text_embeddings.bigquery.embedding import model_version
from bqml_text_embeddings.corpus import refresh
from tests.bigquery_sql import parse, parse_all, table_name
from tests.conftest import PROJECT
from tests.googlesql import Engine
from tests.pulumi_harness import DYNAMIC, ProgramRun, run_program

DATASET = f"{PROJECT}.tf_models_tutorial"
MEMBER_SUFFIX = f"@{PROJECT}.iam.gserviceaccount.com"
CORPORA = {
    "tickets": {
        "table": "acme-data.support.tickets",
        "key": ["ticket_id"],
        "text": "body",
        "models": ["nnlm", "textembedding"],
        "schedule": "every 24 hours",
        "notifyEmail": True,
    },
    "articles": {
        "table": f"{PROJECT}.cms.articles",
        "key": ["site", "article_id"],
        "text": "body",
        "models": ["nnlm"],
        "schedule": "none",
        "index": "none",
        "batchSize": 500,
        "maxAttempts": 5,
        "timeBudgetMinutes": 30,
        "notifyTopic": f"projects/{PROJECT}/topics/embedding-refresh",
        "newestBy": "updated_at",
        "maxDeletePercent": 25,
    },
}


@pytest.fixture(scope="module")
def run(base_config: dict) -> ProgramRun:
    return run_program({**base_config, "models": ["nnlm", "textembedding"], "corpora": CORPORA})


def statement(run: ProgramRun, name: str) -> dict[str, Any]:
    return run.statements()[name].inputs


def names(run: ProgramRun, type_: str) -> set[str]:
    return {d.name for d in run.of_type(type_)}


def test_a_corpus_declares_its_tables_refresh_schedule_index_search_and_grants(run: ProgramRun) -> None:
    tickets = {d.name for d in run.declared.values() if d.name.startswith("tickets")}
    per_model = {
        "{}-{}-embeddings-table", "{}-{}-failures-table", "{}-{}-refresh-procedure", "{}-{}-vector-index", "{}-{}-search-function",
        "{}-{}-refresh-schedule", "{}-{}-first-fill", "{}-{}-embeddings-refresher-writes", "{}-{}-failures-refresher-writes", "{}-{}",
    }
    expected = {name.format("tickets", model) for model in ("nnlm", "textembedding") for name in per_model} | {
        "tickets", "tickets-refresher", "tickets-refresher-identity-propagation", "tickets-refresher-runs-jobs",
        "tickets-refresher-reads-models", "tickets-refresher-reads-source", "tickets-refresher-uses-connection",
        "tickets-refresh-runs", "tickets-refresh-lease", "tickets-refresh-runs-refresher-writes",
        "tickets-refresh-lease-refresher-writes", "tickets-status-view", "tickets-source-table", "tickets-repeated-keys-view",
    }
    assert tickets == expected
    articles = {d.name for d in run.declared.values() if d.name.startswith("articles")}
    assert "articles-nnlm-vector-index" not in articles and "articles-nnlm-first-fill" not in articles  # index none, schedule none
    assert "articles-refresher-uses-connection" not in articles  # nnlm needs no connection
    assert {"api-iam", "api-bigquerydatatransfer"} <= names(run, "gcp:projects/service:Service")


def test_the_default_stack_declares_no_corpus(runs: dict) -> None:
    run = runs["default"]
    assert "corpora" not in run.outputs
    assert not names(run, "gcp:bigquery/dataTransferConfig:DataTransferConfig")
    assert {"api-iam", "api-bigquerydatatransfer"}.isdisjoint(names(run, "gcp:projects/service:Service"))


def _columns(sql_text: str) -> list[tuple[str, str]]:
    """A table's columns: its CREATE TABLE's, then those a later ALTER TABLE adds."""
    create, *alters = parse_all(sql_text)
    return [(c.name, c.args["kind"].sql(dialect="bigquery")) for c in [*create.find(exp.Schema).expressions, *(d for a in alters for d in a.find_all(exp.ColumnDef))]]


def test_the_embeddings_table_is_what_langchain_and_bigframes_search_and_is_never_replaced(run: ProgramRun) -> None:
    for corpus, model in (("tickets", "nnlm"), ("tickets", "textembedding"), ("articles", "nnlm")):
        inputs = statement(run, f"{corpus}-{model}-embeddings-table")
        tree = parse(inputs["sql"])
        assert isinstance(tree, exp.Create) and tree.args["exists"] and not tree.args.get("replace")  # data survives an update
        assert table_name(tree.this.this) == f"{DATASET}.{corpus}_{model}_embeddings" == inputs["target"]
        columns = _columns(inputs["sql"])
        assert columns[:3] == [("doc_id", "STRING"), ("content", "STRING"), ("embedding", "ARRAY<FLOAT64>")]
        assert [name for name, kind in columns if kind.startswith("ARRAY")] == ["embedding"]  # no other REPEATED column
        assert {"content_fingerprint", "model_version", "status", "attempts", "embedded_at"} <= {name for name, _ in columns}
        assert tree.find(exp.ClusterProperty).sql(dialect="bigquery") == "CLUSTER BY doc_id"
        failures = statement(run, f"{corpus}-{model}-failures-table")
        assert ("error", "STRING") in _columns(failures["sql"]) and not any(k.startswith("ARRAY") for _, k in _columns(failures["sql"]))
        # A failures table made before rejections were counted gains the column; a new one gets it the same way.
        create, alter = parse_all(failures["sql"])
        assert create.args["exists"] and isinstance(alter, exp.Alter) and table_name(alter.this) == failures["target"]
        assert alter.sql(dialect="bigquery").startswith(f"ALTER TABLE `{failures['target']}` ADD COLUMN IF NOT EXISTS rejections INT64")


def test_the_refresh_procedure_embeds_with_its_model_at_its_version_after_everything_it_uses(run: ProgramRun, googlesql: Engine) -> None:
    for model, call, dims in (
        ("nnlm", "ML.PREDICT(\n  MODEL `" + DATASET + ".nnlm_model`", 50),
        ("textembedding", "AI.GENERATE_EMBEDDING(\n  MODEL `" + DATASET + ".textembedding_model`", 768),
    ):
        inputs = statement(run, f"tickets-{model}-refresh-procedure")
        googlesql.parse(inputs["sql"], script=True)
        assert inputs["target_kind"] == "PROCEDURE" and inputs["target"] == f"{DATASET}.refresh_tickets_{model}"
        assert inputs["sql"].startswith("-- Keeps")
        assert f"CREATE OR REPLACE PROCEDURE `{DATASET}.refresh_tickets_{model}`(max_delete_percent INT64)" in inputs["sql"]
        assert call in inputs["sql"]
        created = statement(run, f"{model}-create-{'model' if model == 'nnlm' else 'remote-model'}")["sql"]
        version = model_version([created])  # the model's SQL names its artifact digest or endpoint
        assert inputs["sql"].count(f"'{version}'") >= 5 and run.outputs["corpora"]["tickets"]["models"][model]["modelVersion"] == version
        assert f"ORDER BY doc_id\nLIMIT {10_000 if model == 'textembedding' else 100_000};" in inputs["sql"]  # the batch cap
        assert f"DECLARE model_dims INT64 DEFAULT {dims};" in inputs["sql"]  # every stored vector has this length
        assert "DECLARE delete_limit INT64 DEFAULT IFNULL(max_delete_percent, 10);" in inputs["sql"]
        assert ">= 180 THEN" in inputs["sql"] and "INTERVAL 360 MINUTE" in inputs["sql"]  # budget, lease of twice it
        assert "CREATE VECTOR INDEX IF NOT EXISTS" in inputs["sql"]
        for dependency in (
            f"tickets-{model}-embeddings-table", f"tickets-{model}-failures-table", "tickets-refresh-runs", "tickets-refresh-lease",
            "tickets-source-table",
        ):
            assert run.depends_on(f"tickets-{model}-refresh-procedure", dependency), dependency
        assert run.depends_on(f"tickets-{model}-refresh-procedure", f"{model}-create-{'model' if model == 'nnlm' else 'remote-model'}")
    articles = statement(run, "articles-nnlm-refresh-procedure")["sql"]
    googlesql.parse(articles, script=True)
    assert "VECTOR INDEX" not in articles and "LIMIT 500;" in articles and ">= 30 THEN" in articles and "attempts < 5" in articles
    assert "TO_JSON_STRING(STRUCT(`site`, `article_id`))" in articles
    assert "`updated_at` AS newest" in articles and "IFNULL(max_delete_percent, 25)" in articles


def test_the_source_table_is_checked_before_the_refresh_is_declared(run: ProgramRun) -> None:
    check = run.named("tickets-source-table")
    assert check.type == DYNAMIC
    assert {k: check.inputs.get(k) for k in ("project", "location", "table", "key", "text", "newest_by", "setting")} == {
        "project": PROJECT, "location": "US", "table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body",
        "newest_by": None, "setting": "bqml-text-embeddings:corpora.tickets",
    }
    assert run.named("articles-source-table").inputs["newest_by"] == "updated_at"
    assert run.depends_on("tickets-source-table", "api-iam")


def test_repeated_keys_are_listed_in_a_view_and_counted_in_the_status(run: ProgramRun, googlesql: Engine) -> None:
    view = statement(run, "articles-repeated-keys-view")
    assert (view["target_kind"], view["target"]) == ("VIEW", f"{DATASET}.articles_repeated_keys")
    googlesql.parse(view["sql"], script=True)
    assert "HAVING COUNT(*) > 1" in view["sql"] and view["sql"].rstrip().endswith("ORDER BY copies DESC, doc_id;")
    assert run.outputs["corpora"]["articles"]["repeatedKeysView"] == f"{DATASET}.articles_repeated_keys"
    assert "AS repeated_keys" in statement(run, "articles-status-view")["sql"]


def test_the_scheduled_query_calls_the_procedure_as_the_corpus_service_account(run: ProgramRun) -> None:
    (account,) = [d for d in run.of_type("gcp:serviceaccount/account:Account") if d.name == "tickets-refresher"]
    email = f"{account.inputs['accountId']}{MEMBER_SUFFIX}"
    assert 6 <= len(account.inputs["accountId"]) <= 30
    schedule = run.named("tickets-nnlm-refresh-schedule")
    assert schedule.type == "gcp:bigquery/dataTransferConfig:DataTransferConfig"
    call = run.outputs["corpora"]["tickets"]["models"]["nnlm"]["refreshNow"]
    assert schedule.inputs["params"] == {"query": call}
    assert f"CALL `{DATASET}.refresh_tickets_nnlm`(NULL);" in call
    assert {k: schedule.inputs.get(k) for k in ("project", "location", "dataSourceId", "schedule", "serviceAccountName")} == {
        "project": PROJECT, "location": "US", "dataSourceId": "scheduled_query", "schedule": "every 24 hours", "serviceAccountName": email,
    }
    assert schedule.inputs["emailPreferences"] == {"enableFailureEmail": True}
    assert "scheduleOptions" not in schedule.inputs and "destinationDatasetId" not in schedule.inputs
    for dependency in ("tickets-nnlm-refresh-procedure", "tickets-refresher-runs-jobs", "tickets-refresher-reads-source",
                       "tickets-nnlm-embeddings-refresher-writes", "tickets-refresh-lease-refresher-writes", "api-bigquerydatatransfer"):
        assert run.depends_on("tickets-nnlm-refresh-schedule", dependency), dependency

    by_hand = run.named("articles-nnlm-refresh-schedule").inputs
    assert "schedule" not in by_hand and by_hand["scheduleOptions"] == {"disableAutoScheduling": True}
    assert by_hand["notificationPubsubTopic"] == f"projects/{PROJECT}/topics/embedding-refresh"
    assert "emailPreferences" not in by_hand  # off: left out, as the API leaves it out (no diff on every up)


def test_the_service_account_gets_exactly_what_a_refresh_needs_through_non_authoritative_members(run: ProgramRun) -> None:
    for authoritative in ("IAMBinding", "IAMPolicy", "IamBinding", "IamPolicy"):
        assert not [d for d in run.declared.values() if d.type.endswith(authoritative)]
    (account,) = [d for d in run.of_type("gcp:serviceaccount/account:Account") if d.name == "tickets-refresher"]
    member = f"serviceAccount:{account.inputs['accountId']}{MEMBER_SUFFIX}"
    grants = {d.name: d for d in run.declared.values() if d.name.startswith("tickets-refresh") and d.inputs.get("member") == member}
    found = {
        name: (d.type.split("/")[-1].split(":")[0], d.inputs["role"], d.inputs.get("datasetId"), d.inputs.get("tableId"), d.inputs.get("connectionId"))
        for name, d in grants.items()
    }
    assert found == {
        "tickets-refresher-runs-jobs": ("iAMMember", "roles/bigquery.jobUser", None, None, None),
        "tickets-refresher-reads-models": ("datasetIamMember", "roles/bigquery.dataViewer", "tf_models_tutorial", None, None),
        "tickets-refresher-reads-source": ("iamMember", "roles/bigquery.dataViewer", "support", "tickets", None),
        "tickets-refresher-uses-connection": ("connectionIamMember", "roles/bigquery.connectionUser", None, None, "tf_models_tutorial_vertex"),
        "tickets-refresh-runs-refresher-writes": ("iamMember", "roles/bigquery.dataEditor", "tf_models_tutorial", "tickets_refresh_runs", None),
        "tickets-refresh-lease-refresher-writes": ("iamMember", "roles/bigquery.dataEditor", "tf_models_tutorial", "tickets_refresh_lease", None),
    }
    assert grants["tickets-refresher-reads-source"].inputs["project"] == "acme-data"
    for model in ("nnlm", "textembedding"):
        for part in ("embeddings", "failures"):
            write = run.named(f"tickets-{model}-{part}-refresher-writes")
            assert (write.inputs["role"], write.inputs["tableId"], write.inputs["member"]) == ("roles/bigquery.dataEditor", f"tickets_{model}_{part}", member)
            assert run.depends_on(write.name, f"tickets-{model}-{part}-table")  # the table exists before its grant
    for name in grants:
        assert run.depends_on(name, "tickets-refresher-identity-propagation"), name
    assert not [d for d in run.declared.values() if d.inputs.get("member") == member and d.inputs.get("role") in ("roles/owner", "roles/editor", "roles/bigquery.admin")]


def test_the_vector_index_waits_for_rows_is_cosine_and_is_dropped_on_destroy(run: ProgramRun, googlesql: Engine) -> None:
    for model in ("nnlm", "textembedding"):
        inputs = statement(run, f"tickets-{model}-vector-index")
        table = f"{DATASET}.tickets_{model}_embeddings"
        assert (inputs["target_kind"], inputs["target"]) == ("VECTOR INDEX", table)
        googlesql.parse(inputs["sql"], script=True)
        size = f"SELECT size_bytes FROM `{DATASET}.__TABLES__` WHERE table_id = 'tickets_{model}_embeddings'"
        assert f"IF ({size}) >= {refresh.MIN_INDEX_BYTES} THEN" in inputs["sql"]  # BigQuery populates none under 10 MB
        assert f"CREATE OR REPLACE VECTOR INDEX `tickets_{model}_embedding_index` ON `{table}`(embedding)" in inputs["sql"]
        assert "STORING (model_version)" in inputs["sql"]  # the search's filter, so the index serves it
        assert "OPTIONS (index_type = 'IVF', distance_type = 'COSINE')" in inputs["sql"]
        assert inputs["drop_sql"] == f"DROP VECTOR INDEX IF EXISTS `tickets_{model}_embedding_index` ON `{table}`;\n"
        googlesql.parse(inputs["drop_sql"], script=False)
        assert run.depends_on(f"tickets-{model}-vector-index", f"tickets-{model}-embeddings-table")


def test_the_first_fill_starts_without_waiting_and_again_when_the_procedure_changes(run: ProgramRun) -> None:
    for model in ("nnlm", "textembedding"):
        fill = run.named(f"tickets-{model}-first-fill")
        assert fill.type == DYNAMIC
        assert fill.inputs["sql"] == run.outputs["corpora"]["tickets"]["models"][model]["refreshNow"]
        assert fill.inputs["location"] == "US"
        assert fill.inputs["triggers"] == [statement(run, f"tickets-{model}-refresh-procedure")["sql"]]
        takeover = parse(fill.inputs["takeover_sql"])
        assert isinstance(takeover, exp.Update) and table_name(takeover.this) == f"{DATASET}.tickets_refresh_lease"
        assert takeover.args["where"].sql(dialect="bigquery") == f"WHERE model = '{model}'"
        assert run.depends_on(fill.name, f"tickets-{model}-refresh-procedure")


def test_search_embeds_the_query_with_the_same_model_and_reads_only_this_version(run: ProgramRun) -> None:
    corpus = run.outputs["corpora"]["tickets"]["models"]["textembedding"]
    query = parse(corpus["searchQuery"])
    search = query.find(exp.VectorSearch)
    assert search is not None
    base = search.this.find(exp.Select)
    assert table_name(base.args["from_"].this) == f"{DATASET}.tickets_textembedding_embeddings"
    assert base.args["where"].sql(dialect="bigquery") == f"WHERE model_version = '{corpus['modelVersion']}'"
    generate = query.find(exp.GenerateEmbedding)
    assert table_name(generate.this) == f"{DATASET}.textembedding_model"
    assert generate.args["params_struct"].sql(dialect="bigquery") == "STRUCT('RETRIEVAL_QUERY' AS task_type)"
    assert "@query" in corpus["searchQuery"] and "top_k => @k" in corpus["searchQuery"] and "distance_type => 'COSINE'" in corpus["searchQuery"]
    function = statement(run, "tickets-nnlm-search-function")
    assert function["target_kind"] == "TABLE FUNCTION" and function["target"] == f"{DATASET}.search_tickets_nnlm"
    assert parse(function["sql"]).find(exp.Predict) is not None


def test_the_status_view_counts_every_model_of_the_corpus(run: ProgramRun, googlesql: Engine) -> None:
    view = statement(run, "tickets-status-view")
    assert (view["target_kind"], view["target"]) == ("VIEW", f"{DATASET}.tickets_status")
    googlesql.parse(view["sql"], script=False)
    tree = parse(view["sql"])
    models = [s.expressions[0].this.name for s in tree.find_all(exp.Select) if s.expressions and s.expressions[0].alias == "model"]
    assert models == ["nnlm", "textembedding"]
    for dependency in ("tickets-nnlm-embeddings-table", "tickets-textembedding-failures-table", "tickets-refresh-runs"):
        assert run.depends_on("tickets-status-view", dependency)
    assert run.outputs["corpora"]["tickets"]["statusQuery"].rstrip().endswith(f"SELECT * FROM `{DATASET}.tickets_status` ORDER BY model")


def test_every_corpus_statement_parses_and_destroy_drops_everything_it_made(run: ProgramRun, googlesql: Engine) -> None:
    """Every object a corpus statement makes has a drop of that same object: `pulumi destroy` leaves none."""
    corpus_statements = {n: d.inputs for n, d in run.statements().items() if n.startswith(("tickets", "articles"))}
    # per corpus: runs, lease, status and repeated-keys views; per model: two tables, procedure, index, search
    assert len(corpus_statements) == 4 + 2 * 5 + 4 + 4
    for name, inputs in corpus_statements.items():
        googlesql.parse(inputs["sql"], script=True)
        googlesql.parse(inputs["drop_sql"], script=False)
        drop = inputs["drop_sql"]
        kind = inputs["target_kind"]
        if kind == "VECTOR INDEX":
            assert drop.startswith("DROP VECTOR INDEX IF EXISTS") and drop.rstrip().endswith(f"ON `{inputs['target']}`;"), name
        else:
            tree = parse(drop)
            assert isinstance(tree, exp.Drop) and tree.args["exists"] and tree.args["kind"] == kind, name
            (dropped,) = tree.args.get("tables") or [tree.this]
            assert table_name(dropped) == inputs["target"], name
            (made,) = re.findall(rf"^CREATE (?:OR REPLACE )?{kind}(?: IF NOT EXISTS)? `([^`]+)`", inputs["sql"], re.MULTILINE)
            assert made == inputs["target"], name


def test_running_twice_gives_identical_inputs(base_config: dict, run: ProgramRun) -> None:
    again = run_program({**base_config, "models": ["nnlm", "textembedding"], "corpora": CORPORA})
    assert set(again.declared) == set(run.declared)
    for urn, declared in run.declared.items():
        if declared.type != "gcp:storage/bucketObject:BucketObject":
            assert again.declared[urn].inputs == declared.inputs, urn
    assert again.outputs["corpora"] == run.outputs["corpora"]
