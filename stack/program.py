"""This repository's stack: its config mapped to the package's components, and their outputs exported."""

from typing import Any

import pulumi

from bqml_text_embeddings import EmbeddedCorpus, EmbeddedCorpusArgs, TextEmbeddingsTutorial, TextEmbeddingsTutorialArgs
from bqml_text_embeddings.build import BuildError, BuiltModel, ensure_all_built, runtimes
from bqml_text_embeddings.config.rules import REMOTE_MODELS
from stack import config

# An EmbeddedCorpus needs a service account (IAM) and BigQuery's scheduler (Data Transfer).
CORPUS_APIS = ("iam.googleapis.com", "bigquerydatatransfer.googleapis.com")


def build_models(settings: config.Settings) -> dict[str, BuiltModel]:
    """Every chosen model that has a SavedModel, built and checked: a cached one costs a JSON read,
    cold ones are built side by side, each in a process of its own (the components then find them cached)."""
    requested = {model: settings.sources_for(model) for model in settings.built_models}
    built = ensure_all_built(requested, settings.build_dir, jobs=settings.build_jobs, report=pulumi.log.info)
    if "bert" in built:
        # BERT is judged against the runtime that will serve it, before anything is declared or uploaded.
        refusal = runtimes.refusal(
            "bert", built["bert"].manifest.get("runtimes", {}), settings.bert.runtime, f"{config.NAMESPACE}:bert.runtime"
        )
        if refusal:
            raise BuildError(refusal)
    return built


def configure() -> config.Settings:
    """The validated settings, with every chosen model built (the components find them cached), or one clear error.

    Nothing is declared unless the whole configuration is valid and every model built.
    """
    try:
        settings = config.from_pulumi()
        build_models(settings)
        return settings
    except (config.ConfigError, BuildError) as exc:
        raise pulumi.RunError(str(exc)) from None


def run() -> dict[str, Any]:
    """configure() then declare(): the whole program, returning the stack outputs."""
    return declare(configure())


def tutorial_args(settings: config.Settings) -> TextEmbeddingsTutorialArgs:
    bert = settings.bert
    return {
        "project": settings.project,
        "region": settings.region,
        "location": settings.location,
        "dataset": settings.dataset,
        "models": list(settings.models),
        "model_sources": dict(settings.model_sources),
        "build_dir": str(settings.build_dir),
        "build_jobs": settings.build_jobs or 0,
        "sample_predictions": {"rows": settings.samples.rows, "table": settings.samples.table, "column": settings.samples.column},
        "bert": {
            "machine_type": bert.machine_type,
            "min_replicas": bert.min_replicas,
            "max_replicas": bert.max_replicas,
            "runtime": bert.runtime,
            "remote_model_location": bert.remote_model_location,
            **({"serving_image": bert.serving_image} if bert.serving_image else {}),
        },
        "text_embedding": {"endpoint": settings.text_embedding.endpoint},
        "evaluation": {"rows": settings.evaluation.rows},
        "apis": list(CORPUS_APIS) if settings.corpora else [],
    }


def corpus_args(corpus: config.CorpusSettings, settings: config.Settings, tutorial: TextEmbeddingsTutorial) -> EmbeddedCorpusArgs:
    args: EmbeddedCorpusArgs = {
        "project": settings.project,
        "location": settings.location,
        "dataset": tutorial.dataset_resource.dataset_id,
        "table": corpus.table,
        "key": list(corpus.key),
        "text": corpus.text,
        "models": {model: tutorial.served[model].embedding_model for model in corpus.models},
        "schedule": corpus.schedule or "none",
        "max_attempts": corpus.max_attempts,
        "time_budget_minutes": corpus.time_budget_minutes,
        "max_delete_percent": corpus.max_delete_percent,
        "index": corpus.index or "none",
        "notify_email": corpus.notify_email,
    }
    if corpus.batch_size_set is not None:
        args["batch_size"] = corpus.batch_size_set
    if corpus.newest_by:
        args["newest_by"] = corpus.newest_by
    if corpus.notify_topic:
        args["notify_topic"] = corpus.notify_topic
    if tutorial.connection_component is not None and any(model in REMOTE_MODELS for model in corpus.models):
        args["connection"] = tutorial.connection_component.reference
    return args


def declare(settings: config.Settings) -> dict[str, Any]:
    tutorial = TextEmbeddingsTutorial("tutorial", tutorial_args(settings))
    outputs: dict[str, Any] = {
        "dataset": tutorial.dataset,
        "bucket": tutorial.bucket,
        "models": tutorial.model_ids,
    }
    if settings.samples.enabled:
        outputs["sampleTables"] = tutorial.sample_tables
        outputs["searchQueries"] = tutorial.search_queries
        outputs["searchFunctions"] = tutorial.search_functions
    outputs["predictQueries"] = tutorial.predict_queries
    if settings.evaluation.enabled:
        outputs["embeddingQualityTable"] = tutorial.embedding_quality_table
        outputs["embeddingQuality"] = tutorial.embedding_quality
    if settings.corpora:
        outputs["corpora"] = declare_corpora(settings, tutorial)
    if tutorial.connection_component is not None:
        outputs["connection"] = tutorial.connection
    if tutorial.bert_dataset is not None:
        outputs["bertDataset"] = tutorial.bert_dataset
        outputs["bertConnection"] = tutorial.bert_connection
    if tutorial.bert is not None:
        outputs["bertBucket"] = tutorial.bert.bucket_name
        outputs["bertEndpoint"] = tutorial.bert.endpoint_url
        outputs["bertServingImage"] = tutorial.bert.serving_image
    outputs["consoleLinks"] = tutorial.console_links
    return outputs


def declare_corpora(settings: config.Settings, tutorial: TextEmbeddingsTutorial) -> dict[str, Any]:
    """Every corpus kept embedded; per corpus the queries a user runs to watch it, search it and refresh it."""
    after = [tutorial.dataset_resource, *(tutorial.services[api] for api in CORPUS_APIS)]
    outputs: dict[str, Any] = {}
    for spec in settings.corpora:
        corpus = EmbeddedCorpus(
            spec.name,
            corpus_args(spec, settings, tutorial),
            # Stacks made before the package knew a corpus as bqml-text-embeddings:bigquery:Corpus.
            pulumi.ResourceOptions(depends_on=after, aliases=[pulumi.Alias(type_="bqml-text-embeddings:bigquery:Corpus")]),
            named_as=f"{config.NAMESPACE}:corpora.{spec.name}",
        )
        outputs[spec.name] = {
            "statusView": corpus.status_view,
            "statusQuery": corpus.status_query,
            "repeatedKeysView": corpus.repeated_keys_view,
            "refresher": corpus.refresher,
            "models": {
                model: {
                    "table": part.tables.apply(lambda t: t.embeddings),
                    "failures": part.tables.apply(lambda t: t.failures),
                    "searchQuery": part.search_query,
                    "searchFunction": part.function_id,
                    "refreshNow": part.refresh_now,
                    "modelVersion": part.model_version,
                }
                for model, part in corpus.parts.items()
            },
        }
    return outputs
