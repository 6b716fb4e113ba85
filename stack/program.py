"""The whole tutorial as one Pulumi program: configure, then declare."""

from __future__ import annotations

from typing import Any

import pulumi

from bqml_text_embeddings.bigquery import sql
from bqml_text_embeddings.bigquery.embedding import Purpose
from bqml_text_embeddings.build import BuildError, BuiltModel, ensure_all_built, runtimes
from bqml_text_embeddings.naming import dataset_path
from bqml_text_embeddings.steps.bert_serving import BertServing
from bqml_text_embeddings.steps.corpus import Corpus, Place
from bqml_text_embeddings.steps.evaluation import EmbeddingQuality
from bqml_text_embeddings.steps.foundation import Foundation
from bqml_text_embeddings.steps.imported_model import ImportedModel
from bqml_text_embeddings.steps.managed_embedding import ManagedEmbedding
from bqml_text_embeddings.steps.samples import PASTE_ROWS, SamplePredictions, ServedModel, lives_apart, sample_rows
from bqml_text_embeddings.steps.search import SemanticSearch
from bqml_text_embeddings.steps.vertex_connection import VertexConnection
from stack import config


def build_models(settings: config.Settings) -> dict[str, BuiltModel]:
    """Every chosen model that has a SavedModel, built and checked: a cached one costs a JSON read,
    cold ones are built side by side, each in a process of its own."""
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


def configure() -> tuple[config.Settings, dict[str, BuiltModel]]:
    """The validated settings and every chosen model built, or one clear error.

    Nothing is declared unless the whole configuration is valid and every model built.
    """
    try:
        settings = config.from_pulumi()
        return settings, build_models(settings)
    except (config.ConfigError, BuildError) as exc:
        raise pulumi.RunError(str(exc)) from None


def run() -> dict[str, Any]:
    """configure() then declare(): the whole program, returning the stack outputs."""
    return declare(*configure())


def declare(settings: config.Settings, built: dict[str, BuiltModel]) -> dict[str, Any]:
    base = Foundation("tutorial", settings)
    p = settings.project
    connection = (
        VertexConnection("vertex", p, settings.location, settings.dataset, base.services) if settings.with_stack_connection else None
    )
    # BERT in a dataset of its own in gcp:region has its own connection there (docs/bert-placement.md).
    bert_connection = (
        VertexConnection(
            "bert-vertex", p, settings.region, settings.dataset_of("bert"), base.services,
            prefix="bert-", friendly_name="Vertex AI for BERT's remote model",
        )
        if settings.bert_apart
        else connection
    )
    served: dict[str, ServedModel] = {}
    bert = None
    for model in settings.models:
        if model == "bert":
            assert bert_connection is not None
            served[model] = bert = BertServing("bert", settings, built[model], base.dataset_for(model), bert_connection, base.services)
        elif model == "textembedding":
            assert connection is not None
            served[model] = ManagedEmbedding(model, settings, base.dataset, connection, base.services)
        else:
            served[model] = ImportedModel(model, settings, built[model], base.bucket, base.dataset)

    outputs: dict[str, Any] = {
        "dataset": f"{p}.{settings.dataset}",
        "bucket": base.bucket.name,
        "models": {model: component.model_id for model, component in served.items()},
    }
    if settings.samples.enabled:
        samples = {
            model: SamplePredictions(f"{model}-samples", settings, model, component, base.dataset_for(model))
            for model, component in served.items()
        }
        outputs["sampleTables"] = {model: s.table_id for model, s in samples.items()}
        searches = {model: SemanticSearch(model, settings, served[model], s) for model, s in samples.items()}
        outputs["searchQueries"] = {model: search.query for model, search in searches.items()}
        outputs["searchFunctions"] = {model: search.function_id for model, search in searches.items()}
    # A model that lives apart reads its ten rows from the sample rows' copy, made only with samples on.
    outputs["predictQueries"] = {
        model: sql.render(
            "embedding_query", embeddings=component.embedder.embed(sample_rows(settings, model, PASTE_ROWS), Purpose.DOCUMENT)
        )
        for model, component in served.items()
        if settings.samples.enabled or not lives_apart(settings, model)
    }
    if settings.evaluation.enabled:
        datasets = {model: base.dataset_for(model) for model in served}
        quality = EmbeddingQuality("embedding-quality", settings, served, base.dataset, datasets)
        outputs["embeddingQualityTable"] = quality.table_id
        outputs["embeddingQuality"] = quality.figures
    if settings.corpora:
        outputs["corpora"] = declare_corpora(settings, base, served, connection)
    if connection is not None:
        outputs["connection"] = connection.reference
    links = {
        "dataset": _dataset_link(p, settings.dataset),
        "bucket": pulumi.Output.concat("https://console.cloud.google.com/storage/browser/", base.bucket.name, f"?project={p}"),
    }
    if settings.bert_apart:
        assert bert_connection is not None
        outputs["bertDataset"] = f"{p}.{settings.dataset_of('bert')}"
        outputs["bertConnection"] = bert_connection.reference
        links["bertDataset"] = _dataset_link(p, settings.dataset_of("bert"))
    if bert is not None:
        outputs["bertBucket"] = bert.bucket.name
        outputs["bertEndpoint"] = bert.endpoint_url
        links["bertEndpoint"] = pulumi.Output.concat(
            f"https://console.cloud.google.com/vertex-ai/online-prediction/locations/{settings.region}/endpoints/",
            bert.endpoint.name,
            f"?project={p}",
        )
    outputs["consoleLinks"] = links
    return outputs


def _dataset_link(project: str, dataset: str) -> str:
    return f"https://console.cloud.google.com/bigquery?project={project}&ws=!1m4!1m3!3m2!1s{project}!2s{dataset}"


def declare_corpora(
    settings: config.Settings, base: Foundation, served: dict[str, ServedModel], connection: VertexConnection | None
) -> dict[str, Any]:
    """Every corpus kept embedded; per corpus the queries a user runs to watch it, search it and refresh it."""
    place = Place(
        project=settings.project,
        location=settings.location,
        dataset=base.dataset,
        dataset_path=dataset_path(settings),
        stack=pulumi.get_stack(),
        apis=(base.services["iam.googleapis.com"], base.services["bigquerydatatransfer.googleapis.com"]),
    )
    outputs: dict[str, Any] = {}
    for spec in settings.corpora:
        corpus = Corpus(spec, place, {model: served[model] for model in spec.models}, connection)
        outputs[spec.name] = {
            "statusView": corpus.view_id,
            "statusQuery": corpus.status_query,
            "repeatedKeysView": corpus.repeated_keys_view_id,
            "refresher": corpus.refresher.email,
            "models": {
                model: {
                    "table": part.tables.embeddings,
                    "failures": part.tables.failures,
                    "searchQuery": part.search_query,
                    "searchFunction": part.function_id,
                    "refreshNow": part.refresh_now,
                    "modelVersion": part.model_version,
                }
                for model, part in corpus.models.items()
            },
        }
    return outputs
