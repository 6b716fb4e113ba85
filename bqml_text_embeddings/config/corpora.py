"""The `corpora` section: each a table of the user's, kept embedded by some of the stack's models."""

from __future__ import annotations

from typing import Any

from bqml_text_embeddings import validate
from bqml_text_embeddings.config.corpus_keys import CORPUS, CORPUS_REQUIRED, DEFAULT_CORPUS
from bqml_text_embeddings.config.problems import Fail
from bqml_text_embeddings.config.rules import DEFAULT_BATCH_SIZES, NO_INDEX, table_location
from bqml_text_embeddings.config.settings import CorpusSettings
from bqml_text_embeddings.config.unknown import object_keys


def parse_corpora(value: Any, stack_models: list[str], location: str | None, fail: Fail) -> tuple[CorpusSettings, ...]:
    if not isinstance(value, dict):
        fail("corpora", f"{value!r}: give an object of corpora by name, each with {list(CORPUS_REQUIRED)}")
        return ()
    found = []
    for name, spec in value.items():
        if problem := validate.corpus_name(name):
            fail("corpora", problem)
        elif (corpus := _corpus(name, spec, stack_models, location, fail)) is not None:
            found.append(corpus)
    return tuple(found)


def _corpus(name: str, spec: Any, stack_models: list[str], location: str | None, fail: Fail) -> CorpusSettings | None:
    key_of = f"corpora.{name}"
    if not isinstance(spec, dict):
        fail(key_of, f"{spec!r}: give an object with {list(CORPUS_REQUIRED)} (and optionally {list(DEFAULT_CORPUS)})")
        return None
    problems: list[tuple[str, str]] = []

    def bad(key: str, message: str | None) -> None:
        if message:
            problems.append((key, message))

    keys_known = object_keys(spec, [*CORPUS_REQUIRED, *DEFAULT_CORPUS], key_of, fail)
    for required in CORPUS_REQUIRED:
        if spec.get(required) is None:
            bad(required, "required: " + CORPUS[required].fix)
    given = {**DEFAULT_CORPUS, **{k: v for k, v in spec.items() if v is not None}}

    table = given.get("table")
    if table is not None:
        if problem := CORPUS["table"].refusal(table, validate.table_ref(table)):
            bad("table", problem)
        elif location and (known := table_location(table)) and known != location:
            bad("table", f"{table} is in {known} and BigQuery queries only within one location: set location to {known}, "
                f"or point at a copy of the table in {location}")

    raw_key = given.get("key")
    key = [raw_key] if isinstance(raw_key, str) else raw_key  # one column may be given bare
    if key is not None:
        shape = None if validate.listed(key, validate.column) else f"{raw_key!r}: {CORPUS['key'].fix}"
        bad("key", shape or validate.repeated(key, "a column"))

    text = given.get("text")
    if text is not None:
        bad("text", CORPUS["text"].refusal(text, validate.column(text)))

    models = given.get("models")
    if models is not None:
        bad("models", _models(models, stack_models))

    schedule = given.get("schedule")
    if schedule is not None:
        schedule, problem = validate.schedule(schedule)
        bad("schedule", problem)

    batch, problem = CORPUS["batchSize"].whole(given["batchSize"]) if given["batchSize"] is not None else (None, None)
    bad("batchSize", problem)
    attempts, problem = CORPUS["maxAttempts"].whole(given["maxAttempts"])
    bad("maxAttempts", problem)
    budget, problem = CORPUS["timeBudgetMinutes"].whole(given["timeBudgetMinutes"])
    bad("timeBudgetMinutes", problem)
    index = given["index"]
    bad("index", validate.one_of(index, CORPUS["index"].choices))
    bad("notifyEmail", validate.boolean(given["notifyEmail"]))
    topic = given["notifyTopic"]
    if topic is not None:
        bad("notifyTopic", validate.pubsub_topic(topic))
    newest_by = given["newestBy"]
    if newest_by is not None:
        bad("newestBy", CORPUS["newestBy"].refusal(newest_by, validate.column(newest_by)))
    delete_percent, problem = CORPUS["maxDeletePercent"].whole(given["maxDeletePercent"])
    bad("maxDeletePercent", problem)

    for key_name, message in problems:
        fail(f"{key_of}.{key_name}", message)
    if problems or not keys_known:
        return None
    return CorpusSettings(
        name=name,
        table=table,
        key=tuple(key),
        text=text,
        models=tuple(models),
        schedule=schedule,
        batch_sizes={m: batch or DEFAULT_BATCH_SIZES[m] for m in models},
        max_attempts=attempts,
        time_budget_minutes=budget,
        index=None if index == NO_INDEX else index,
        notify_email=given["notifyEmail"],
        notify_topic=topic,
        newest_by=newest_by,
        max_delete_percent=delete_percent,
        batch_size_set=batch,
    )


def _models(models: Any, stack_models: list[str]) -> str | None:
    """Some of the stack's models, each once (the stack's own list is checked against every model there is)."""
    if not validate.listed(models, validate.text):
        return f"{models!r}: {CORPUS['models'].fix}"
    missing = [m for m in models if m not in stack_models]
    if missing:
        return f"{missing} not among the stack's models {stack_models}: add them to `models`, or choose from those"
    return validate.repeated(models, "a model")
