"""The stack's configuration: read once, validated whole, before anything is declared.

Every value that reaches SQL or a resource name is checked here against what
BigQuery or Vertex AI accept; an error names the key and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from infra import locations
from model_build import catalog, runtimes

NAMESPACE = "bqml-text-embeddings"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_SAMPLE_ROWS = 1_000_000
IMDB_REVIEWS = "bigquery-public-data.imdb.reviews"
# IMDB has 12,500 reviews per label and split; ML.EVALUATE needs a few per class to mean anything.
MAX_EVALUATION_ROWS = 25_000
MIN_EVALUATION_ROWS = 20

# Google's managed embedding models need no build: a remote model over Vertex AI's endpoint.
MANAGED_MODELS = ("textembedding",)
MODEL_CHOICES = (*catalog.MODELS, *MANAGED_MODELS)

DEFAULT_MODELS = ("nnlm", "swivel")
DEFAULT_SAMPLES = {"rows": 500, "table": "bigquery-public-data.imdb.reviews", "column": "review"}
# runtime: what serves BERT (model_build/runtimes.py). servingImage None: the runtime's own image:
# TensorFlow Serving's from Docker Hub through an Artifact Registry remote repository the stack makes
# in gcp:region, or the prebuilt image from the registry nearest gcp:region.
DEFAULT_BERT = {
    "machineType": "n1-standard-2",
    "minReplicas": 1,
    "maxReplicas": 1,
    "runtime": runtimes.DEFAULT,
    "servingImage": None,
}
DEFAULT_TEXT_EMBEDDING = {"endpoint": "text-embedding-005"}
DEFAULT_EVALUATION = {"rows": 1000}
DEFAULTS: dict[str, Any] = {
    "region": "us-central1",
    "location": "US",
    "dataset": "tf_models_tutorial",
    "models": list(DEFAULT_MODELS),
    "modelSources": {},
    "buildDir": ".build",
    "buildJobs": 0,
    "samplePredictions": DEFAULT_SAMPLES,
    "bert": DEFAULT_BERT,
    "textEmbedding": DEFAULT_TEXT_EMBEDDING,
    "evaluation": DEFAULT_EVALUATION,
}

# Google's documented forms. Project: 6-30 of [a-z0-9-], starting with a
# letter (plus the legacy domain-scoped "example.com:name" form).
PROJECT_RE = re.compile(r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
DATASET_RE = re.compile(r"^[A-Za-z0-9_]{1,1024}$")
TABLE_RE = re.compile(r"^[A-Za-z0-9_-]{1,1024}$")
COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
REGION_RE = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
MACHINE_TYPE_RE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
# A Vertex AI publisher model id: text-embedding-005, gemini-embedding-001, textembedding-gecko@003.
ENDPOINT_NAME_RE = re.compile(r"^[a-z][a-z0-9.-]{0,126}[a-z0-9](?:@[0-9]{3})?$")
IMAGE_RE = re.compile(r"^[a-z0-9.-]+(?::[0-9]+)?/[A-Za-z0-9._/-]+(?::[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$")


class ConfigError(ValueError):
    """One line per bad key, each naming the key and the fix."""


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
    runtime: str  # a name in model_build.runtimes.RUNTIMES
    # The image to upload with; None: TensorFlow Serving's image through the stack's remote repository.
    serving_image: str | None

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


def _key(name: str) -> str:
    return name if ":" in name else f"{NAMESPACE}:{name}"


def _as_int(value: Any) -> int | None:
    """A whole number, also when `pulumi config set --path` stored it as a string; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def parse(raw: Mapping[str, Any]) -> Settings:
    """Settings from raw config values (None or absent = default). Raises ConfigError."""
    errors: list[str] = []

    def fail(key: str, message: str) -> None:
        errors.append(f"{_key(key)}: {message}")

    def get(name: str) -> Any:
        value = raw.get(name)
        return DEFAULTS.get(name) if value is None else value

    project = raw.get("project")
    if not project:
        errors.append("gcp:project: required; set it with `pulumi config set gcp:project MY_PROJECT`")
    elif not isinstance(project, str) or not PROJECT_RE.match(project):
        fail("gcp:project", f"{project!r} is not a Google Cloud project id (6-30 lowercase letters, digits, hyphens)")

    region = get("region")
    if not isinstance(region, str) or not REGION_RE.match(region):
        fail("gcp:region", f"{region!r} is not a Google Cloud region such as us-central1")

    location_raw = get("location")
    location = locations.normalize(location_raw) if isinstance(location_raw, str) else None
    if location is None:
        fail("location", f"{location_raw!r} is not a BigQuery location: use US, EU or a region such as us-central1")

    dataset = get("dataset")
    if not isinstance(dataset, str) or not DATASET_RE.match(dataset):
        fail("dataset", f"{dataset!r} is not a BigQuery dataset id: 1-1024 letters, digits or underscores")

    models = get("models")
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        fail("models", f"{models!r}: give a non-empty list drawn from {list(MODEL_CHOICES)}")
        models = []
    else:
        unknown = [m for m in models if m not in MODEL_CHOICES]
        if unknown:
            fail("models", f"unknown model(s) {unknown}: choose from {list(MODEL_CHOICES)}")
        if len(set(models)) != len(models):
            fail("models", f"{models!r} names a model twice")

    model_sources = get("modelSources")
    if not isinstance(model_sources, dict):
        fail("modelSources", f"{model_sources!r}: give an object of source handles keyed by {list(catalog.ALL_SOURCE_KEYS)}")
        model_sources = {}
    for key, handle in model_sources.items():
        if key not in catalog.ALL_SOURCE_KEYS:
            fail("modelSources", f"unknown source {key!r}: keys are {list(catalog.ALL_SOURCE_KEYS)}")
        elif not isinstance(handle, str) or not handle.strip():
            fail("modelSources", f"{key}: give a TF Hub URL, a gs:// path or a local SavedModel directory")

    build_dir = get("buildDir")
    if not isinstance(build_dir, str) or not build_dir.strip():
        fail("buildDir", f"{build_dir!r}: give a directory path")
        build_dir = ".build"

    build_jobs = _as_int(get("buildJobs"))
    if build_jobs is None or build_jobs < 0:
        fail("buildJobs", f"{get('buildJobs')!r}: give how many models may build at once, or 0 for one per core")
        build_jobs = 0

    samples = _samples(get("samplePredictions"), location, fail)
    bert = _bert(get("bert"), region if isinstance(region, str) else "", fail)
    text_embedding = _text_embedding(get("textEmbedding"), fail)
    evaluation = _evaluation(get("evaluation"), location, fail)

    region_ok = isinstance(region, str) and REGION_RE.match(region)
    if "bert" in models and location and region_ok and not locations.endpoint_region_allowed(location, region):
        fail(
                "gcp:region",
                f"a BigQuery remote model in a {location} dataset cannot use a Vertex AI endpoint in {region}: "
                f"choose one of {locations.allowed_endpoint_regions(location)} or change location "
                "(the endpoint's region must lie inside a US or EU dataset's multi-region, or be a regional dataset's region)",
            )

    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    return Settings(
        project=project,
        region=region,
        location=location,
        dataset=dataset,
        models=tuple(models),
        model_sources=dict(model_sources),
        build_dir=(PROJECT_ROOT / build_dir).resolve(),
        build_jobs=build_jobs or None,
        samples=samples,
        bert=bert,
        text_embedding=text_embedding,
        evaluation=evaluation,
    )


def _object(value: Any, key: str, defaults: Mapping[str, Any], fail: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        fail(key, f"{value!r}: give an object with keys {list(defaults)}")
        return None
    unknown = sorted(set(value) - set(defaults))
    if unknown:
        fail(key, f"unknown key(s) {unknown}: allowed are {list(defaults)}")
    return {**defaults, **value}


def _samples(value: Any, location: str | None, fail: Any) -> SampleSettings:
    merged = _object(value, "samplePredictions", DEFAULT_SAMPLES, fail) or dict(DEFAULT_SAMPLES)
    raw_rows, table, column = merged["rows"], merged["table"], merged["column"]
    rows = _as_int(raw_rows)
    if rows is None or not 0 <= rows <= MAX_SAMPLE_ROWS:
        fail("samplePredictions.rows", f"{raw_rows!r}: give a whole number from 0 (off) to {MAX_SAMPLE_ROWS:,}")
        rows = 0
    parts = table.split(".") if isinstance(table, str) else []
    if len(parts) != 3 or not PROJECT_RE.match(parts[0]) or not DATASET_RE.match(parts[1]) or not TABLE_RE.match(parts[2]):
        fail("samplePredictions.table", f"{table!r}: give a table as project.dataset.table")
    elif location and rows:
        known = locations.KNOWN_TABLE_LOCATIONS.get(f"{parts[0]}.{parts[1]}")
        if known and known != location:
            fail(
                "samplePredictions.table",
                f"{table} is in {known} and a query in a {location} dataset cannot read it: "
                f"set location to {known}, or point at a copy of the table in {location}",
            )
    if not isinstance(column, str) or not COLUMN_RE.match(column):
        fail("samplePredictions.column", f"{column!r} is not a plain column name (letters, digits, underscores)")
    return SampleSettings(rows=rows, table=table, column=column)


def _servable_from(image: str, region: str) -> bool:
    host, _, path = image.partition("/")
    return host == f"{region}-docker.pkg.dev" or (host.endswith("docker.pkg.dev") and path.startswith("vertex-ai/prediction/"))


def _today() -> date:
    return date.today()


def _bert(value: Any, region: str, fail: Any) -> BertSettings:
    merged = _object(value, "bert", DEFAULT_BERT, fail) or dict(DEFAULT_BERT)
    machine, raw_low, raw_high = merged["machineType"], merged["minReplicas"], merged["maxReplicas"]
    low, high = _as_int(raw_low), _as_int(raw_high)
    runtime_name = merged["runtime"]
    runtime = runtimes.RUNTIMES.get(runtime_name) if isinstance(runtime_name, str) else None
    if runtime is None:
        fail("bert.runtime", f"{runtime_name!r}: choose one of {list(runtimes.RUNTIMES)}")
        runtime = runtimes.get(runtimes.DEFAULT)
    elif runtime.end_of_availability and _today() > runtime.end_of_availability:
        fail(
            "bert.runtime",
            f"{runtime.name} passed Google's end of availability on {runtime.end_of_availability.isoformat()} "
            f"(new models on it may be refused): choose {runtimes.DEFAULT}",
        )
    image = merged["servingImage"] or None
    if image is None and runtime.prebuilt:
        image = f"{locations.serving_image_registry(region)}/{runtime.image}"
    if not isinstance(machine, str) or not MACHINE_TYPE_RE.match(machine):
        fail("bert.machineType", f"{machine!r}: give a Compute Engine machine type such as n1-standard-2")
    if low is None or low < 1:
        fail("bert.minReplicas", f"{raw_low!r}: give a whole number of at least 1")
    if high is None or high < 1:
        fail("bert.maxReplicas", f"{raw_high!r}: give a whole number of at least 1")
    elif low is not None and high < low:
        fail("bert.maxReplicas", f"{high} is below bert.minReplicas ({low})")
    if image is not None and (not isinstance(image, str) or not IMAGE_RE.match(image)):
        fail("bert.servingImage", f"{image!r} is not a container image URI")
    elif image is not None and merged["servingImage"] and region and not _servable_from(image, region):
        # Vertex AI takes a model's image only from Artifact Registry, in a repository in the model's
        # region (its prebuilt images excepted).
        fail(
            "bert.servingImage",
            f"{image!r}: Vertex AI takes a model's image only from an Artifact Registry repository in gcp:region: "
            f"give {region}-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG",
        )
    return BertSettings(
        machine_type=machine, min_replicas=low or 1, max_replicas=high or 1, runtime=runtime.name, serving_image=image
    )


def _text_embedding(value: Any, fail: Any) -> TextEmbeddingSettings:
    merged = _object(value, "textEmbedding", DEFAULT_TEXT_EMBEDDING, fail) or dict(DEFAULT_TEXT_EMBEDDING)
    endpoint = merged["endpoint"]
    if not isinstance(endpoint, str) or not ENDPOINT_NAME_RE.match(endpoint):
        fail(
            "textEmbedding.endpoint",
            f"{endpoint!r}: give a Vertex AI embedding model id such as text-embedding-005 or gemini-embedding-001",
        )
        endpoint = DEFAULT_TEXT_EMBEDDING["endpoint"]
    return TextEmbeddingSettings(endpoint=endpoint)


def _evaluation(value: Any, location: str | None, fail: Any) -> EvaluationSettings:
    merged = _object(value, "evaluation", DEFAULT_EVALUATION, fail) or dict(DEFAULT_EVALUATION)
    raw_rows = merged["rows"]
    rows = _as_int(raw_rows)
    if rows is None or not (rows == 0 or MIN_EVALUATION_ROWS <= rows <= MAX_EVALUATION_ROWS) or rows % 2:
        fail(
            "evaluation.rows",
            f"{raw_rows!r}: give 0 (off) or an even number from {MIN_EVALUATION_ROWS} to {MAX_EVALUATION_ROWS:,} "
            "(reviews per split, half positive, half negative)",
        )
        return EvaluationSettings(rows=0)
    source_location = locations.KNOWN_TABLE_LOCATIONS[IMDB_REVIEWS.rsplit(".", 1)[0]]
    if rows and location and location != source_location:
        fail(
            "evaluation.rows",
            f"the evaluation reads {IMDB_REVIEWS}, which is in {source_location}, and a {location} dataset cannot: "
            f"set evaluation.rows to 0, or location to {source_location}",
        )
    return EvaluationSettings(rows=rows)


def from_pulumi() -> Settings:
    """Reads the stack's config (the only place that touches pulumi.Config)."""
    import pulumi

    ours, gcp = pulumi.Config(NAMESPACE), pulumi.Config("gcp")
    raw: dict[str, Any] = {"project": gcp.get("project"), "region": gcp.get("region")}
    for name in ("location", "dataset", "buildDir", "buildJobs"):
        raw[name] = ours.get(name)
    for name in ("models", "modelSources", "samplePredictions", "bert", "textEmbedding", "evaluation"):
        try:
            raw[name] = ours.get_object(name)
        except Exception:  # noqa: BLE001 - pulumi raises a bare error for bad JSON
            raise ConfigError(f"invalid configuration:\n  {_key(name)}: not valid JSON/YAML") from None
    return parse(raw)
