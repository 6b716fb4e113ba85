"""Names of what the stack creates, in one place so SQL, outputs and tests agree."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a leaf: names only, no config or Pulumi imported at run time
    from bqml_text_embeddings.config.settings import Settings

LABELS = {"app": "bqml-text-embeddings", "managed-by": "pulumi"}


def model_dataset(settings: Settings, model: str) -> str:
    """project.dataset where a model, and every table and function that queries it, lives."""
    return f"{settings.project}.{settings.dataset_of(model)}"


def sample_table_id(settings: Settings, model: str) -> str:
    return f"{model_dataset(settings, model)}.{model}_sample_embeddings"


def sample_source_table(settings: Settings, model: str) -> str:
    """The sample rows copied beside a model that lives away from samplePredictions.table."""
    return f"{model_dataset(settings, model)}.sample_source"


def _in_dataset(settings: Settings, name: str) -> str:
    return f"{dataset_path(settings)}.{name}"


def evaluation_reviews_table(settings: Settings, model: str | None = None) -> str:
    """The labelled reviews: in the stack's dataset, or the copy beside `model`."""
    return f"{model_dataset(settings, model) if model else dataset_path(settings)}.evaluation_reviews"


def evaluation_embeddings_table(settings: Settings, model: str) -> str:
    return f"{model_dataset(settings, model)}.{model}_evaluation_embeddings"


def sentiment_model_id(settings: Settings, model: str) -> str:
    return f"{model_dataset(settings, model)}.{model}_sentiment_model"


def model_quality_table(settings: Settings, model: str) -> str:
    """Where a model's figures are measured, beside it."""
    return f"{model_dataset(settings, model)}.{model}_quality"


def quality_row_table(settings: Settings, model: str) -> str:
    """Where embedding_quality reads a model's figures: its own table, or the copy of a model's that lives apart
    (named apart: a stack that moves BERT drops the old bert_quality last, after the copy is made)."""
    if settings.location_of(model) == settings.location:
        return model_quality_table(settings, model)
    return _in_dataset(settings, f"{model}_quality_copy")


def embedding_quality_table(settings: Settings) -> str:
    return _in_dataset(settings, "embedding_quality")


def search_function_id(settings: Settings, model: str) -> str:
    return f"{model_dataset(settings, model)}.search_{model}"


def artifact_prefix(model: str, digest: str) -> str:
    """Changes when the model's bytes do, so a new version never overwrites a live one's files."""
    return f"{model}_model/{digest[:16]}/"


def connection_id(dataset: str) -> str:
    """A connection per dataset that holds remote models: tf_models_tutorial_vertex."""
    return f"{dataset}_vertex"


def endpoint_numeric_id(project: str, region: str, stack: str) -> str:
    """Vertex AI endpoint ids are numeric (no leading zero, at most 10 digits); stable per stack."""
    digest = int(hashlib.sha256(f"{project}/{region}/{stack}".encode()).hexdigest(), 16)
    return str(1_000_000_000 + digest % 9_000_000_000)


def owner_label(project: str, stack: str) -> str:
    """A label value (<= 63 of [a-z0-9_-]) naming the stack that owns a Vertex model."""
    raw = f"{project}-{stack}".lower()
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in raw)
    return cleaned[:63]


def serving_repository_id(stack: str) -> str:
    """An Artifact Registry repository id (a letter first, then [a-z0-9-], at most 63), one per stack."""
    cleaned = "".join(c if c.isalnum() else "-" for c in stack.lower())
    return f"bqml-te-{cleaned}"[:63].rstrip("-")


# --- corpora: the user's own tables, kept embedded (bqml_text_embeddings/corpus/component.py) ---------------------
# These take the dataset as "project.dataset": a corpus component is given its dataset, not the settings.


def dataset_path(settings: Settings) -> str:
    return f"{settings.project}.{settings.dataset}"


def corpus_embeddings_table(dataset_path: str, corpus: str, model: str) -> str:
    """What LangChain and BigQuery DataFrames search: only rows the model embedded."""
    return f"{dataset_path}.{corpus}_{model}_embeddings"


def corpus_failures_table(dataset_path: str, corpus: str, model: str) -> str:
    """Rows waiting for a retry or failed for good, kept apart so the vector column stays uniform."""
    return f"{dataset_path}.{corpus}_{model}_failures"


def corpus_runs_table(dataset_path: str, corpus: str) -> str:
    return f"{dataset_path}.{corpus}_refresh_runs"


def corpus_lease_table(dataset_path: str, corpus: str) -> str:
    return f"{dataset_path}.{corpus}_refresh_lease"


def corpus_status_view(dataset_path: str, corpus: str) -> str:
    return f"{dataset_path}.{corpus}_status"


def corpus_repeated_keys_view(dataset_path: str, corpus: str) -> str:
    return f"{dataset_path}.{corpus}_repeated_keys"


def corpus_refresh_procedure(dataset_path: str, corpus: str, model: str) -> str:
    return f"{dataset_path}.refresh_{corpus}_{model}"


def corpus_search_function(dataset_path: str, corpus: str, model: str) -> str:
    return f"{dataset_path}.search_{corpus}_{model}"


def corpus_index(corpus: str, model: str) -> str:
    """A vector index's name: unqualified, it lives beside its table."""
    return f"{corpus}_{model}_embedding_index"


def corpus_service_account_id(dataset_path: str, corpus: str) -> str:
    """6-30 of [a-z0-9-], unique per dataset and corpus (service account ids are project-wide)."""
    digest = hashlib.sha256(f"{dataset_path}/{corpus}".encode()).hexdigest()[:6]
    return f"{corpus.replace('_', '-')[:23].rstrip('-')}-{digest}"
