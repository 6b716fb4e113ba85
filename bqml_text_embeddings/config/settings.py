"""The stack's settings: what the configuration means once it is validated, and where BERT lives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bqml_text_embeddings.build import catalog
from bqml_text_embeddings.config.rules import ENDPOINT_REGION


@dataclass(frozen=True)
class SampleSettings:
    rows: int
    table: str  # project.dataset.table
    column: str

    @property
    def enabled(self) -> bool:
        return self.rows > 0


@dataclass(frozen=True)
class BertSettings:
    machine_type: str
    min_replicas: int
    max_replicas: int
    runtime: str  # a name in bqml_text_embeddings.build.runtimes.RUNTIMES
    # The image to upload with; None: TensorFlow Serving's image through the stack's remote repository.
    serving_image: str | None
    remote_model_location: str = ENDPOINT_REGION  # one of BERT_PLACEMENTS

    @property
    def mirrors_image(self) -> bool:
        """The stack makes the Artifact Registry remote repository that serves the runtime's image."""
        return self.serving_image is None


@dataclass(frozen=True)
class TextEmbeddingSettings:
    endpoint: str  # a Vertex AI managed embedding model, e.g. text-embedding-005


@dataclass(frozen=True)
class EvaluationSettings:
    rows: int  # labelled reviews embedded per split (train, test), half of each label

    @property
    def enabled(self) -> bool:
        return self.rows > 0

    @property
    def per_class(self) -> int:
        return self.rows // 2


@dataclass(frozen=True)
class CorpusSettings:
    """A table of the user's, kept embedded by some of the stack's models (`corpora.NAME`)."""

    name: str
    table: str  # project.dataset.table, in the stack's location
    key: tuple[str, ...]  # the columns that identify a row
    text: str  # the column to embed
    models: tuple[str, ...]
    schedule: str | None  # BigQuery's schedule syntax; None: refreshed only by hand
    batch_sizes: Mapping[str, int]  # rows per batch, per model
    max_attempts: int  # attempts before a row that keeps failing retryably counts as failed
    time_budget_minutes: int  # a refresh starts no batch after this
    index: str | None  # IVF, TREE_AH or None (no vector index)
    notify_email: bool  # BigQuery's failure email for the scheduled query
    notify_topic: str | None  # projects/P/topics/T: a Pub/Sub message after every run
    newest_by: str | None  # of several rows with one key, the one with the greatest value wins
    max_delete_percent: int  # a run that would delete more of the corpus than this deletes nothing and fails
    batch_size_set: int | None = None  # the batchSize given; None: each model's own default

    def batch_size(self, model: str) -> int:
        return self.batch_sizes[model]


@dataclass(frozen=True)
class Settings:
    project: str
    region: str
    location: str
    dataset: str
    models: tuple[str, ...]
    model_sources: Mapping[str, str]
    build_dir: Path
    build_jobs: int | None  # cold models built at once; None: one per core
    samples: SampleSettings
    bert: BertSettings
    text_embedding: TextEmbeddingSettings
    evaluation: EvaluationSettings
    corpora: tuple[CorpusSettings, ...] = ()
    apis: tuple[str, ...] = ()  # more Google APIs the program's other components need turned on

    def sources_for(self, model: str) -> dict[str, str]:
        keys = catalog.get(model).source_keys()
        return {k: v for k, v in self.model_sources.items() if k in keys}

    @property
    def with_bert(self) -> bool:
        return "bert" in self.models

    @property
    def built_models(self) -> tuple[str, ...]:
        """The chosen models that come from a SavedModel we build."""
        return tuple(m for m in self.models if m in catalog.MODELS)

    @property
    def with_connection(self) -> bool:
        """A remote model (BERT's endpoint, a managed model) needs the Cloud resource connection."""
        return "bert" in self.models or "textembedding" in self.models

    @property
    def bert_apart(self) -> bool:
        """BERT's remote model, and what queries it, live in a dataset of their own in gcp:region."""
        return bert_apart(self.models, self.bert.remote_model_location, self.location, self.region)

    @property
    def with_stack_connection(self) -> bool:
        """A remote model lives in `dataset`: the connection in `location` serves it."""
        return "textembedding" in self.models or (self.with_bert and not self.bert_apart)

    def dataset_of(self, model: str) -> str:
        """The dataset a model, its sample, search and evaluation live in."""
        return regional_dataset(self.dataset, self.region) if model == "bert" and self.bert_apart else self.dataset

    def location_of(self, model: str) -> str:
        return self.region if model == "bert" and self.bert_apart else self.location


def bert_apart(models: Sequence[str], placement: str, location: str, region: str) -> bool:
    return "bert" in models and placement == ENDPOINT_REGION and location != region


def regional_dataset(dataset: str, region: str) -> str:
    """BERT's dataset beside the stack's: tf_models_tutorial_us_central1."""
    return f"{dataset}_{region.replace('-', '_')}"
