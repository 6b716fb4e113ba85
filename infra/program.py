"""The whole tutorial as one Pulumi program: configure, then declare."""

from __future__ import annotations

from typing import Any

import pulumi

from infra import config
from infra.bigquery import sql
from infra.steps.bert_serving import BertServing
from infra.steps.foundation import Foundation
from infra.steps.imported_model import ImportedModel
from infra.steps.samples import SamplePredictions
from model_build import BuildError, BuiltModel, ensure_built
from model_build.check import INPUT_NAME


def build_models(settings: config.Settings) -> dict[str, BuiltModel]:
    """Every chosen model, built and checked (a cached build costs a JSON read)."""
    return {model: ensure_built(model, settings.sources_for(model), settings.build_dir) for model in settings.models}


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
    served: dict[str, ImportedModel | BertServing] = {}
    bert = None
    for model, build in built.items():
        if model == "bert":
            served[model] = bert = BertServing("bert", settings, build, base.dataset, base.services)
        else:
            served[model] = ImportedModel(model, settings, build, base.bucket, base.dataset)
    models = {model: component.model_id for model, component in served.items()}

    samples = settings.samples
    p = settings.project
    outputs: dict[str, Any] = {
        "dataset": f"{p}.{settings.dataset}",
        "bucket": base.bucket.name,
        "models": models,
    }
    if samples.enabled:
        outputs["sampleTables"] = {
            model: SamplePredictions(f"{model}-samples", settings, model, component).table_id
            for model, component in served.items()
        }
    outputs["predictQueries"] = {
        model: sql.render(
            "predict_query", model=model_id, column=samples.column, input_column=INPUT_NAME, source_table=samples.table
        )
        for model, model_id in models.items()
    }
    links = {
        "dataset": f"https://console.cloud.google.com/bigquery?project={p}&ws=!1m4!1m3!3m2!1s{p}!2s{settings.dataset}",
        "bucket": pulumi.Output.concat("https://console.cloud.google.com/storage/browser/", base.bucket.name, f"?project={p}"),
    }
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
