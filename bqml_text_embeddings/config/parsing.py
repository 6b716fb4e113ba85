"""The whole configuration, validated at once: the stack's own keys, then each section, then BERT's placement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bqml_text_embeddings import validate
from bqml_text_embeddings.config import unknown
from bqml_text_embeddings.config.bert import parse_bert
from bqml_text_embeddings.config.corpora import parse_corpora
from bqml_text_embeddings.config.field import Field
from bqml_text_embeddings.config.keys import (
    BERT,
    BUILD_DIR,
    BUILD_JOBS,
    CORPORA,
    DATASET,
    EVALUATION,
    LOCATION,
    MODEL_SOURCES,
    MODELS,
    REGION,
    SAMPLES,
    TEXT_EMBEDDING,
)
from bqml_text_embeddings.config.placement import bert_placement
from bqml_text_embeddings.config.problems import Fail, Problems
from bqml_text_embeddings.config.rules import MODEL_CHOICES
from bqml_text_embeddings.config.sections import parse_evaluation, parse_samples, parse_text_embedding
from bqml_text_embeddings.config.settings import Settings


def parse(
    raw: Mapping[str, Any],
    configured: Iterable[str] = (),
    root: Path | None = None,
    fail: Problems | None = None,
) -> Settings:
    """Settings from raw config values (None or absent = default). Raises ConfigError.

    `raw` holds our keys by name and gcp:project and gcp:region as `project` and `region`.
    `configured` names every key set in the stack's config: one of ours that the program does not
    know (a misspelling) is refused rather than silently ignored. `buildDir` is relative to `root`
    (default: the working directory, where Pulumi runs a program). `fail` collects the problems and
    raises them (default: the stack's config keys in a ConfigError).
    """
    fail = fail or Problems()
    unknown.stack_keys(configured, fail)

    def get(field: Field) -> Any:
        value = raw.get(field.name.rpartition(":")[2])
        return field.default if value is None else value

    project = raw.get("project")
    if not project:
        fail("gcp:project", "required; set it with `pulumi config set gcp:project MY_PROJECT`")
    elif problem := validate.project_id(project):
        fail("gcp:project", problem)

    region = get(REGION)
    region_problem = validate.region(region)
    if region_problem:
        fail("gcp:region", region_problem)

    given_location = get(LOCATION)
    location = validate.normalize_location(given_location)  # US, EU or a region, as BigQuery spells it
    if problem := validate.location(given_location):
        fail("location", problem)

    dataset = get(DATASET)
    if problem := validate.dataset_id(dataset):
        fail("dataset", problem)

    models = get(MODELS)
    if problem := validate.model_list(models, MODEL_CHOICES):
        fail("models", problem)
    if not isinstance(models, list):
        models = []

    model_sources = _model_sources(get(MODEL_SOURCES), fail)

    build_dir = get(BUILD_DIR)
    if problem := BUILD_DIR.refusal(build_dir, validate.text(build_dir)):
        fail("buildDir", problem)
        build_dir = BUILD_DIR.default

    build_jobs, problem = BUILD_JOBS.whole(get(BUILD_JOBS))
    if problem:
        fail("buildJobs", problem)

    samples = parse_samples(get(SAMPLES), location, fail)
    bert = parse_bert(get(BERT), region if isinstance(region, str) else "", fail)
    text_embedding = parse_text_embedding(get(TEXT_EMBEDDING), fail)
    evaluation = parse_evaluation(get(EVALUATION), location, fail)
    corpora = parse_corpora(get(CORPORA), models, location, fail)

    if "bert" in models and location and not region_problem:
        bert_placement(
            bert.remote_model_location, location, region, dataset, samples, corpora, fail
        )

    fail.raise_if_any()
    return Settings(
        project=project,
        region=region,
        location=location,
        dataset=dataset,
        models=tuple(models),
        model_sources=dict(model_sources),
        build_dir=((root or Path.cwd()) / build_dir).resolve(),
        build_jobs=build_jobs or None,
        samples=samples,
        bert=bert,
        text_embedding=text_embedding,
        evaluation=evaluation,
        corpora=corpora,
    )


def _model_sources(value: Any, fail: Fail) -> dict[str, str]:
    keys = list(MODEL_SOURCES.choices)
    if not isinstance(value, dict):
        fail("modelSources", f"{value!r}: give an object of source handles keyed by {keys}")
        return {}
    for key, handle in value.items():
        if key not in keys:
            fail("modelSources", f"unknown source {key!r}: keys are {keys}")
        elif validate.text(handle):
            fail("modelSources", f"{key}: give a TF Hub URL, a gs:// path or a local SavedModel directory")
    return value
