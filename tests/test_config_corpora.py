"""Corpora configuration: defaults, and one clear error naming corpora.NAME.KEY for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack import config
from stack.config import ConfigError, CorpusSettings, parse

ROOT = Path(__file__).resolve().parent.parent
TICKETS = {"table": "acme-data.support.tickets", "key": ["ticket_id"], "text": "body", "models": ["nnlm"], "schedule": "every 24 hours"}


def corpus(**changes: object) -> dict:
    return {"project": "my-proj-123", "models": ["nnlm", "textembedding"], "corpora": {"tickets": {**TICKETS, **changes}}}


def test_the_five_required_keys_and_documented_defaults() -> None:
    (tickets,) = parse(corpus(models=["nnlm", "textembedding"])).corpora
    assert tickets == CorpusSettings(
        name="tickets",
        table="acme-data.support.tickets",
        key=("ticket_id",),
        text="body",
        models=("nnlm", "textembedding"),
        schedule="every 24 hours",
        batch_sizes={"nnlm": 100_000, "textembedding": 10_000},  # each model's own quota
        max_attempts=3,
        time_budget_minutes=180,
        index="IVF",
        notify_email=False,
        notify_topic=None,
        newest_by=None,
        max_delete_percent=10,  # a run that would delete more of the corpus deletes nothing and fails
    )
    assert parse({"project": "my-proj-123"}).corpora == ()


def test_optional_keys_and_several_corpora() -> None:
    settings = parse({
        "project": "my-proj-123",
        "models": ["nnlm", "swivel"],
        "corpora": {
            "tickets": {**TICKETS, "key": "ticket_id", "schedule": "none", "index": "none", "batchSize": "5000", "maxAttempts": 5,
                        "newestBy": "updated_at", "maxDeletePercent": "100"},
            "kb_articles": {**TICKETS, "table": "my-proj-123.cms.articles", "key": ["site", "id"], "models": ["swivel", "nnlm"],
                            "schedule": "Every Mon,Thu  09:00", "index": "TREE_AH", "timeBudgetMinutes": 30,
                            "notifyEmail": True, "notifyTopic": "projects/my-proj-123/topics/refresh-runs"},
        },
    })
    tickets, articles = settings.corpora
    assert (tickets.key, tickets.schedule, tickets.index, tickets.batch_size("nnlm"), tickets.max_attempts) == (("ticket_id",), None, None, 5000, 5)
    assert (tickets.newest_by, tickets.max_delete_percent, articles.newest_by, articles.max_delete_percent) == ("updated_at", 100, None, 10)
    assert (articles.name, articles.key, articles.models, articles.schedule, articles.index) == (
        "kb_articles", ("site", "id"), ("swivel", "nnlm"), "every mon,thu 09:00", "TREE_AH"
    )
    assert (articles.time_budget_minutes, articles.notify_email, articles.notify_topic) == (30, True, "projects/my-proj-123/topics/refresh-runs")


@pytest.mark.parametrize("schedule", ["every 24 hours", "every 5 minutes", "every day 03:00", "every monday 09:00", "1st,3rd monday of month 09:00",
                                      "every 2 hours from 08:00 to 18:00", "first sunday of quarter 00:00", "every 15 minutes synchronized"])
def test_bigquery_schedule_forms_are_accepted(schedule: str) -> None:
    assert parse(corpus(schedule=schedule)).corpora[0].schedule == schedule


BAD = [
    ({"table": None}, "corpora.tickets.table: required: give the table to embed as project.dataset.table"),
    ({"table": "support.tickets"}, "corpora.tickets.table: 'support.tickets': give the table to embed as project.dataset.table"),
    ({"table": "a-proj.d.t`; DROP TABLE x --"}, "corpora.tickets.table: 'a-proj.d.t`; DROP TABLE x --': give the table"),
    ({"table": "bigquery-public-data.imdb.reviews", "x": 1}, None),  # two errors: reported below
    ({"key": []}, "corpora.tickets.key: []: give a list of the column(s) that identify a row"),
    ({"key": ["id; DROP TABLE x"]}, "corpora.tickets.key: ['id; DROP TABLE x']: give a list of the column(s)"),
    ({"key": ["id", "id"]}, "corpora.tickets.key: ['id', 'id'] names a column twice"),
    ({"text": "body)"}, "corpora.tickets.text: 'body)': give the name of the STRING column to embed"),
    ({"models": ["bert"]}, "corpora.tickets.models: ['bert'] not among the stack's models ['nnlm', 'textembedding']"),
    ({"models": []}, "corpora.tickets.models: []: give a non-empty list of the stack's models"),
    ({"models": ["nnlm", "nnlm"]}, "corpora.tickets.models: ['nnlm', 'nnlm'] names a model twice"),
    ({"schedule": None}, "corpora.tickets.schedule: required: give BigQuery's schedule syntax such as \"every 24 hours\", or \"none\""),
    ({"schedule": "daily"}, "corpora.tickets.schedule: 'daily' is not BigQuery's schedule syntax"),
    ({"schedule": "every 24 hours'; DROP"}, "is not BigQuery's schedule syntax"),
    ({"schedule": "every 1 minutes"}, "corpora.tickets.schedule: 'every 1 minutes': BigQuery runs a scheduled query at most every 5 minutes"),
    ({"batchSize": 0}, "corpora.tickets.batchSize: 0: give rows per batch from 1 to 1,000,000"),
    ({"maxAttempts": 0}, "corpora.tickets.maxAttempts: 0: give a whole number from 1 to 20"),
    ({"timeBudgetMinutes": 600}, "corpora.tickets.timeBudgetMinutes: 600: give minutes from 1 to 360"),
    ({"index": "HNSW"}, "corpora.tickets.index: 'HNSW': give one of ['IVF', 'TREE_AH', 'none']"),
    ({"notifyEmail": "yes"}, "corpora.tickets.notifyEmail: 'yes': give true or false"),
    ({"notifyTopic": "refresh-runs"}, "corpora.tickets.notifyTopic: 'refresh-runs': give a Pub/Sub topic as projects/PROJECT/topics/TOPIC"),
    ({"txet": "body"}, "corpora.tickets.txet: unknown key; did you mean text?"),
    ({"newestBy": "updated at"}, "corpora.tickets.newestBy: 'updated at': give the name of a column whose greatest value marks the newest row"),
    ({"maxDeletePercent": 101}, "corpora.tickets.maxDeletePercent: 101: give a whole percent from 0 to 100"),
    ({"maxDeletePercent": -1}, "corpora.tickets.maxDeletePercent: -1: give a whole percent from 0 to 100"),
    ({"maxDeletePercent": 12.5}, "corpora.tickets.maxDeletePercent: 12.5: give a whole percent from 0 to 100"),
]


@pytest.mark.parametrize("changes, message", [b for b in BAD if b[1]], ids=[b[1][:50] for b in BAD if b[1]])
def test_each_bad_corpus_value_gets_one_error_naming_corpora_name_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse(corpus(**changes))
    lines = str(failure.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[1].strip().startswith("bqml-text-embeddings:corpora.tickets.") and message in lines[1]


def test_a_source_known_to_live_elsewhere_is_refused_with_the_location_rule() -> None:
    with pytest.raises(ConfigError) as failure:
        parse({**corpus(table="bigquery-public-data.imdb.reviews"), "location": "EU", "samplePredictions": {"rows": 0}, "evaluation": {"rows": 0}})
    assert "corpora.tickets.table: bigquery-public-data.imdb.reviews is in US and BigQuery queries only within one location" in str(failure.value)


@pytest.mark.parametrize("name", ["Tickets", "1tickets", "tick-ets", "tickets_", "t" * 31])
def test_a_corpus_name_becomes_part_of_table_names_and_must_fit(name: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse({"project": "my-proj-123", "corpora": {name: TICKETS}})
    assert f"bqml-text-embeddings:corpora: {name!r} is not a corpus name" in str(failure.value)


def test_corpora_must_be_an_object_of_objects() -> None:
    for value, message in (([TICKETS], "corpora: "), ({"tickets": "acme.support.tickets"}, "corpora.tickets: 'acme.support.tickets': give an object")):
        with pytest.raises(ConfigError) as failure:
            parse({"project": "my-proj-123", "corpora": value})
        assert message in str(failure.value)


def test_pulumi_yaml_the_readme_and_the_docs_document_corpora() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["bqml-text-embeddings:corpora"]
    assert declared["value"] == {}
    readme = (ROOT / "README.md").read_text()
    assert "## Embed your own table" in readme and "(docs/corpora.md)" in readme
    for key in config.CORPUS_REQUIRED:  # the README's example sets every required key
        assert f"\n      {key}: " in readme, key
    page = (ROOT / "docs" / "configuration.md").read_text()
    section = page[page.index("## Embed your own table"):page.index("## Outputs")]
    for key in (*config.CORPUS_REQUIRED, *config.DEFAULT_CORPUS):
        assert f"`{key}`" in section, key
    assert (ROOT / "docs" / "corpora.md").is_file()
