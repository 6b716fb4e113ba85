"""The stack's configuration: read once, validated whole, before anything is declared.

Every value that reaches SQL or a resource name is checked here against what
BigQuery or Vertex AI accept; an error names the key and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bqml_text_embeddings import locations, schedule
from bqml_text_embeddings.build import catalog, runtimes

NAMESPACE = "bqml-text-embeddings"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAX_SAMPLE_ROWS = 1_000_000
# Rows that pass through the deployer's process to reach BERT's dataset (bqml_text_embeddings/bigquery/row_copy.py);
# the IMDB table holds 100,000 reviews.
MAX_COPIED_SAMPLE_ROWS = 100_000
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
# remoteModelLocation: where BERT's remote model, and everything that queries it, lives (BERT_PLACEMENTS).
DEFAULT_BERT = {
    "machineType": "n1-standard-2",
    "minReplicas": 1,
    "maxReplicas": 1,
    "runtime": runtimes.DEFAULT,
    "servingImage": None,
    "remoteModelLocation": "endpoint-region",
}
# A cost guard: each replica is a machine billed for every hour it is deployed, whether or not BigQuery
# calls it. Ten is ten times the tutorial's one and five times the policy pack's default cap (2,
# policy/bqml_policies.py, raisable with the pack's config up to this); a larger number is more likely
# a typo (1,000,000 was accepted) than a plan for this stack. Raising it is a deliberate code change.
MAX_BERT_REPLICAS = 10
# endpoint-region: a dataset in gcp:region (BigQuery's locations page: "Vertex AI deployed models
# aren't supported in either multi-region"; a regional dataset needs its endpoint in its region).
# dataset: the stack's own `dataset`, as the tutorial does (a US dataset over a us-central1 endpoint).
ENDPOINT_REGION = "endpoint-region"
BERT_PLACEMENTS = (ENDPOINT_REGION, "dataset")
DEFAULT_TEXT_EMBEDDING = {"endpoint": "text-embedding-005"}
DEFAULT_EVALUATION = {"rows": 1000}
# A corpus: the user's own table, kept embedded by some of the stack's models (see CorpusSettings).
CORPUS_REQUIRED = ("table", "key", "text", "models", "schedule")
DEFAULT_CORPUS: dict[str, Any] = {
    "batchSize": None,  # rows per batch; None: each model's own (DEFAULT_BATCH_SIZES)
    "maxAttempts": 3,
    "timeBudgetMinutes": 180,
    "index": "IVF",
    "notifyEmail": False,
    "notifyTopic": None,
    "newestBy": None,  # a column that picks the newest of several rows with one key (else: any with text)
    "maxDeletePercent": 10,  # a run that would delete more of the corpus deletes nothing and fails
}
# Rows a refresh sends to a model per statement. Imported models only cost BigQuery compute; a
# remote model's rows share Vertex AI's quota (text-embedding-005: 1,500 requests a minute by
# default), and rows past it come back retryable and unbilled, so its batches stay small enough
# to finish in minutes and to commit what they embedded.
DEFAULT_BATCH_SIZES = {"nnlm": 100_000, "swivel": 100_000, "bert": 10_000, "textembedding": 10_000}
MAX_BATCH_SIZE = 1_000_000
MAX_ATTEMPTS = 20
# A refresh deletes rows whose key left the source; more than this share at once is far more often an
# empty or partial load (a truncate-and-reload, a failed load, row-level security) than real deletes.
MAX_DELETE_PERCENT = 100
# A script may run 24 hours and each of its statements 6 (BigQuery's limits); a run stops
# starting batches after its budget, so the budget stays well under both.
MAX_TIME_BUDGET_MINUTES = 360
INDEX_TYPES = ("IVF", "TREE_AH")
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
    "corpora": {},
}

# Google's documented forms, each matched whole (`fullmatch`: `$` would also match before a
# trailing newline). Project: 6-30 of [a-z0-9-], starting with a letter (plus the legacy
# domain-scoped "example.com:name" form).
PROJECT_RE = re.compile(r"(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
MAX_DATASET_ID = 1024
DATASET_RE = re.compile(r"[A-Za-z0-9_]{1,1024}")
TABLE_RE = re.compile(r"[A-Za-z0-9_-]{1,1024}")
COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
REGION_RE = re.compile(r"[a-z]+-[a-z]+[0-9]+")
MACHINE_TYPE_RE = re.compile(r"[a-z][a-z0-9]*-[a-z0-9-]+")
# A Vertex AI publisher model id: text-embedding-005, gemini-embedding-001, textembedding-gecko@003.
ENDPOINT_NAME_RE = re.compile(r"[a-z][a-z0-9.-]{0,126}[a-z0-9](?:@[0-9]{3})?")
# A corpus name becomes part of table, routine and resource names.
CORPUS_NAME_RE = re.compile(r"[a-z](?:[a-z0-9_]{0,28}[a-z0-9])?")
PUBSUB_TOPIC_RE = re.compile(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}")
# An image by tag, by digest, or both (Docker's grammar: the digest decides what is pulled).
IMAGE_RE = re.compile(
    r"(?P<host>[a-z0-9.-]+(?::[0-9]+)?)/(?P<path>[A-Za-z0-9._/-]+)"
    r"(?=[:@])(?::(?P<tag>[A-Za-z0-9._-]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)
# Google's prebuilt prediction images (Vertex AI docs, "Prebuilt containers for inference").
PREBUILT_PATH = "vertex-ai/prediction/"


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


def _key(name: str) -> str:
    return name if ":" in name else f"{NAMESPACE}:{name}"


def _as_int(value: Any) -> int | None:
    """A whole number, also when `pulumi config set --path` stored it as a string; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def _did_you_mean(key: str, known: Sequence[str]) -> str:
    near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"did you mean {near[0]}? " if near else ""


def parse(raw: Mapping[str, Any], configured: Iterable[str] = ()) -> Settings:
    """Settings from raw config values (None or absent = default). Raises ConfigError.

    `configured` names every key set in the stack's config: one of ours that the program does not
    know (a misspelling) is refused rather than silently ignored.
    """
    errors: list[str] = []

    def fail(key: str, message: str) -> None:
        errors.append(f"{_key(key)}: {message}")

    ours = sorted(k for k in DEFAULTS if k != "region")  # gcp:region and gcp:project are the provider's
    for full in sorted(configured):
        namespace, _, name = full.partition(":")
        if namespace != NAMESPACE or name in ours:
            continue
        if name in ("project", "region"):
            fail(name, f"unknown key; set gcp:{name} instead (`pulumi config set gcp:{name} …`)")
        else:
            fail(name, f"unknown key; {_did_you_mean(name, ours)}the keys are {ours}")

    def get(name: str) -> Any:
        value = raw.get(name)
        return DEFAULTS.get(name) if value is None else value

    project = raw.get("project")
    if not project:
        errors.append("gcp:project: required; set it with `pulumi config set gcp:project MY_PROJECT`")
    elif not isinstance(project, str) or not PROJECT_RE.fullmatch(project):
        fail("gcp:project", f"{project!r} is not a Google Cloud project id (6-30 lowercase letters, digits, hyphens)")

    region = get("region")
    if not isinstance(region, str) or not REGION_RE.fullmatch(region):
        fail("gcp:region", f"{region!r} is not a Google Cloud region such as us-central1")

    location_raw = get("location")
    location = locations.normalize(location_raw) if isinstance(location_raw, str) else None
    if location is None:
        fail("location", f"{location_raw!r} is not a BigQuery location: use US, EU or a region such as us-central1")

    dataset = get("dataset")
    if not isinstance(dataset, str) or not DATASET_RE.fullmatch(dataset):
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
    corpora = _corpora(get("corpora"), models if isinstance(models, list) else [], location, fail)

    region_ok = isinstance(region, str) and REGION_RE.fullmatch(region)
    if "bert" in models and location and region_ok:
        _bert_placement(bert.remote_model_location, location, region, dataset, samples, corpora, fail)

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
        corpora=corpora,
        apis=tuple(raw.get("apis") or ()),
    )


def _object(value: Any, key: str, defaults: Mapping[str, Any], fail: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        fail(key, f"{value!r}: give an object with keys {list(defaults)}")
        return None
    for unknown in sorted(set(value) - set(defaults)):
        fail(f"{key}.{unknown}", f"unknown key; {_did_you_mean(unknown, list(defaults))}allowed are {list(defaults)}")
    return {**defaults, **value}


def _samples(value: Any, location: str | None, fail: Any) -> SampleSettings:
    merged = _object(value, "samplePredictions", DEFAULT_SAMPLES, fail) or dict(DEFAULT_SAMPLES)
    raw_rows, table, column = merged["rows"], merged["table"], merged["column"]
    rows = _as_int(raw_rows)
    if rows is None or not 0 <= rows <= MAX_SAMPLE_ROWS:
        fail("samplePredictions.rows", f"{raw_rows!r}: give a whole number from 0 (off) to {MAX_SAMPLE_ROWS:,}")
        rows = 0
    parts = table.split(".") if isinstance(table, str) else []
    if len(parts) != 3 or not PROJECT_RE.fullmatch(parts[0]) or not DATASET_RE.fullmatch(parts[1]) or not TABLE_RE.fullmatch(parts[2]):
        fail("samplePredictions.table", f"{table!r}: give a table as project.dataset.table")
    elif location and rows:
        known = locations.KNOWN_TABLE_LOCATIONS.get(f"{parts[0]}.{parts[1]}")
        if known and known != location:
            fail(
                "samplePredictions.table",
                f"{table} is in {known} and a query in a {location} dataset cannot read it: "
                f"set location to {known}, or point at a copy of the table in {location}",
            )
    if not isinstance(column, str) or not COLUMN_RE.fullmatch(column):
        fail("samplePredictions.column", f"{column!r} is not a plain column name (letters, digits, underscores)")
    return SampleSettings(rows=rows, table=table, column=column)


def _servable_from(image: str, region: str) -> bool:
    host, _, path = image.partition("/")
    return host == f"{region}-docker.pkg.dev" or (host.endswith("docker.pkg.dev") and path.startswith(PREBUILT_PATH))


def _image_mismatch(image: str, runtime: runtimes.Runtime) -> str | None:
    """Why `image` cannot be what `runtime` describes, if what the image is can be told from its name.

    A runtime decides the op registry BERT is judged by, the container's command and arguments and the
    artifact's layout: an image of another server would pass the check here and fail on the endpoint.
    """
    found = IMAGE_RE.fullmatch(image)
    assert found is not None  # validated before
    host, path, tag = found["host"], found["path"], found["tag"]
    judged = f"{runtime.name} (TensorFlow {runtime.tensorflow} and tensorflow-text {runtime.tensorflow_text} ops)"
    if host.endswith("docker.pkg.dev") and path.startswith(PREBUILT_PATH):
        if runtime.prebuilt and path == runtime.repository:
            return None
        serving = [r.name for r in runtimes.RUNTIMES.values() if r.prebuilt and r.repository == path]
        fix = (
            f"set bert.runtime to {serving[0]} and leave bert.servingImage unset (it takes the image nearest gcp:region)"
            if serving
            else f"no runtime here serves it: leave bert.servingImage unset, or choose a bert.runtime of {list(runtimes.RUNTIMES)}"
        )
        return (
            f"{image!r} is Google's prebuilt image {path.rsplit('/', 1)[1]}, but bert.runtime is {judged}: BERT would be "
            f"judged by that runtime's ops and started as it starts, and fail on the endpoint. Fix: {fix}"
        )
    if path == "tensorflow/serving" or path.endswith("/tensorflow/serving"):
        if runtime.prebuilt:
            return (
                f"{image!r} is TensorFlow Serving's own image, but bert.runtime is {runtime.name}, Google's prebuilt image: "
                f"set bert.runtime to {runtimes.DEFAULT}, or leave bert.servingImage unset"
            )
        if tag is not None and tag != runtime.tag:
            return (
                f"{image!r} is TensorFlow Serving {tag}, but bert.runtime is {judged}: give tensorflow/serving:{runtime.tag}"
            )
    return None


def _today() -> date:
    return date.today()


def _bert(value: Any, region: str, fail: Any) -> BertSettings:
    merged = _object(value, "bert", DEFAULT_BERT, fail) or dict(DEFAULT_BERT)
    machine, raw_low, raw_high = merged["machineType"], merged["minReplicas"], merged["maxReplicas"]
    low, high = _as_int(raw_low), _as_int(raw_high)
    runtime_name = merged["runtime"]
    runtime = runtimes.RUNTIMES.get(runtime_name) if isinstance(runtime_name, str) else None
    runtime_known = runtime is not None
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
        image = f"{locations.serving_image_registry(region)}/{runtime.reference}"
    if not isinstance(machine, str) or not MACHINE_TYPE_RE.fullmatch(machine):
        fail("bert.machineType", f"{machine!r}: give a Compute Engine machine type such as n1-standard-2")
    if low is None or low < 1:
        fail("bert.minReplicas", f"{raw_low!r}: give a whole number of at least 1")
    if high is None or not 1 <= high <= MAX_BERT_REPLICAS:
        fail(
            "bert.maxReplicas",
            f"{raw_high!r}: give a whole number from 1 to {MAX_BERT_REPLICAS} (a cost guard: every replica is billed while deployed)",
        )
    elif low is not None and high < low:
        fail("bert.maxReplicas", f"{high} is below bert.minReplicas ({low})")
    if image is not None and (not isinstance(image, str) or not IMAGE_RE.fullmatch(image)):
        fail("bert.servingImage", f"{image!r} is not a container image URI")
    elif image is not None and merged["servingImage"] and region and not _servable_from(image, region):
        # Vertex AI takes a model's image only from Artifact Registry, in a repository in the model's
        # region (its prebuilt images excepted).
        fail(
            "bert.servingImage",
            f"{image!r}: Vertex AI takes a model's image only from an Artifact Registry repository in gcp:region: "
            f"give {region}-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG",
        )
    elif image is not None and runtime_known and (mismatch := _image_mismatch(image, runtime)):
        fail("bert.servingImage", mismatch)
    placement = merged["remoteModelLocation"]
    if placement not in BERT_PLACEMENTS:
        fail(
            "bert.remoteModelLocation",
            f"{placement!r}: choose {ENDPOINT_REGION} (a dataset in gcp:region, as BigQuery's locations page requires) "
            "or dataset (the stack's dataset, as the tutorial does)",
        )
        placement = ENDPOINT_REGION
    return BertSettings(
        machine_type=machine,
        min_replicas=low or 1,
        max_replicas=high or 1,
        runtime=runtime.name,
        serving_image=image,
        remote_model_location=placement,
    )


def _bert_placement(
    placement: str, location: str, region: str, dataset: Any, samples: SampleSettings, corpora: Sequence[CorpusSettings], fail: Any
) -> None:
    """Where BERT's remote model lives must be a place BigQuery reaches a Vertex AI deployed model from."""
    if region not in locations.REMOTE_MODEL_REGIONS:
        fail(
            "gcp:region",
            f"BigQuery reaches models deployed to Vertex AI only in {sorted(locations.REMOTE_MODEL_REGIONS)} "
            f"(its locations page, \"Locations for remote models\"), not {region}: choose one of those",
        )
    elif placement != ENDPOINT_REGION and not locations.endpoint_region_allowed(location, region):
        fail(
            "gcp:region",
            f"a BigQuery remote model in a {location} dataset cannot use a Vertex AI endpoint in {region}: "
            f"choose one of {locations.allowed_endpoint_regions(location)}, change location, or set "
            f"bert.remoteModelLocation to {ENDPOINT_REGION} "
            "(the endpoint's region must lie inside a US or EU dataset's multi-region, or be a regional dataset's region)",
        )
    if not bert_apart(["bert"], placement, location, region):
        return
    if samples.rows > MAX_COPIED_SAMPLE_ROWS:
        fail(
            "samplePredictions.rows",
            f"{samples.rows:,} rows would be copied through this machine to BERT's dataset in {region} "
            f"(bert.remoteModelLocation: {ENDPOINT_REGION}): give at most {MAX_COPIED_SAMPLE_ROWS:,}, or set location to {region}",
        )
    if isinstance(dataset, str) and len(regional_dataset(dataset, region)) > MAX_DATASET_ID:
        fail("dataset", f"BERT's dataset {regional_dataset(dataset, region)[:40]}… would pass BigQuery's {MAX_DATASET_ID} characters: shorten dataset")
    for corpus in corpora:
        if "bert" in corpus.models:
            fail(
                f"corpora.{corpus.name}.models",
                f"bert's remote model lives in {region} (bert.remoteModelLocation: {ENDPOINT_REGION}) and this corpus in {location}, "
                f"and BigQuery queries within one location: set location to {region} so the whole stack lives there, "
                "drop bert from this corpus, or set bert.remoteModelLocation to dataset (the tutorial's placement)",
            )


def _text_embedding(value: Any, fail: Any) -> TextEmbeddingSettings:
    merged = _object(value, "textEmbedding", DEFAULT_TEXT_EMBEDDING, fail) or dict(DEFAULT_TEXT_EMBEDDING)
    endpoint = merged["endpoint"]
    if not isinstance(endpoint, str) or not ENDPOINT_NAME_RE.fullmatch(endpoint):
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


def _corpora(value: Any, stack_models: list[str], location: str | None, fail: Any) -> tuple[CorpusSettings, ...]:
    if not isinstance(value, dict):
        fail("corpora", f"{value!r}: give an object of corpora by name, each with {list(CORPUS_REQUIRED)}")
        return ()
    corpora = []
    for name, spec in value.items():
        if not isinstance(name, str) or not CORPUS_NAME_RE.fullmatch(name):
            fail(
                "corpora",
                f"{name!r} is not a corpus name: 1-30 lowercase letters, digits and underscores, starting with a letter "
                "(it becomes part of table names)",
            )
            continue
        corpus = _corpus(name, spec, stack_models, location, fail)
        if corpus is not None:
            corpora.append(corpus)
    return tuple(corpora)


def _corpus(name: str, spec: Any, stack_models: list[str], location: str | None, fail: Any) -> CorpusSettings | None:
    key_of = f"corpora.{name}"
    allowed = [*CORPUS_REQUIRED, *DEFAULT_CORPUS]
    if not isinstance(spec, dict):
        fail(key_of, f"{spec!r}: give an object with {list(CORPUS_REQUIRED)} (and optionally {list(DEFAULT_CORPUS)})")
        return None
    ok = True

    def bad(key: str, message: str) -> None:
        nonlocal ok
        ok = False
        fail(f"{key_of}.{key}", message)

    for unknown in sorted(set(spec) - set(allowed)):
        bad(unknown, f"unknown key; {_did_you_mean(unknown, allowed)}allowed are {allowed}")
    for required in CORPUS_REQUIRED:
        if spec.get(required) is None:
            bad(required, "required: " + _CORPUS_HINTS[required])
    merged = {**DEFAULT_CORPUS, **{k: v for k, v in spec.items() if v is not None}}

    table = merged.get("table")
    if table is not None:
        parts = table.split(".") if isinstance(table, str) else []
        if len(parts) != 3 or not PROJECT_RE.fullmatch(parts[0]) or not DATASET_RE.fullmatch(parts[1]) or not TABLE_RE.fullmatch(parts[2]):
            bad("table", f"{table!r}: {_CORPUS_HINTS['table']}")
        elif location and locations.KNOWN_TABLE_LOCATIONS.get(f"{parts[0]}.{parts[1]}", location) != location:
            known = locations.KNOWN_TABLE_LOCATIONS[f"{parts[0]}.{parts[1]}"]
            bad("table", f"{table} is in {known} and BigQuery queries only within one location: set location to {known}, "
                "or point at a copy of the table in " + location)

    key = merged.get("key")
    if isinstance(key, str):
        key = [key]
    if key is not None:
        if not isinstance(key, list) or not key or not all(isinstance(k, str) and COLUMN_RE.fullmatch(k) for k in key):
            bad("key", f"{merged.get('key')!r}: {_CORPUS_HINTS['key']}")
        elif len(set(key)) != len(key):
            bad("key", f"{key!r} names a column twice")

    text = merged.get("text")
    if text is not None and (not isinstance(text, str) or not COLUMN_RE.fullmatch(text)):
        bad("text", f"{text!r}: {_CORPUS_HINTS['text']}")

    models = merged.get("models")
    if models is not None:
        if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
            bad("models", f"{models!r}: {_CORPUS_HINTS['models']}")
        else:
            missing = [m for m in models if m not in stack_models]
            if missing:
                bad("models", f"{missing} not among the stack's models {stack_models}: add them to `models`, or choose from those")
            if len(set(models)) != len(models):
                bad("models", f"{models!r} names a model twice")

    schedule = merged.get("schedule")
    if schedule is not None:
        schedule = _schedule(schedule, lambda message: bad("schedule", message))

    batch_raw = merged["batchSize"]
    batch = None if batch_raw is None else _as_int(batch_raw)
    if batch_raw is not None and (batch is None or not 1 <= batch <= MAX_BATCH_SIZE):
        bad("batchSize", f"{batch_raw!r}: give rows per batch from 1 to {MAX_BATCH_SIZE:,}, or leave it out for each model's default")
    attempts = _as_int(merged["maxAttempts"])
    if attempts is None or not 1 <= attempts <= MAX_ATTEMPTS:
        bad("maxAttempts", f"{merged['maxAttempts']!r}: give a whole number from 1 to {MAX_ATTEMPTS}")
    budget = _as_int(merged["timeBudgetMinutes"])
    if budget is None or not 1 <= budget <= MAX_TIME_BUDGET_MINUTES:
        bad("timeBudgetMinutes", f"{merged['timeBudgetMinutes']!r}: give minutes from 1 to {MAX_TIME_BUDGET_MINUTES} (BigQuery stops a statement after 6 hours)")
    index = merged["index"]
    if index != "none" and index not in INDEX_TYPES:
        bad("index", f"{index!r}: give one of {[*INDEX_TYPES, 'none']}")
    if not isinstance(merged["notifyEmail"], bool):
        bad("notifyEmail", f"{merged['notifyEmail']!r}: give true or false")
    topic = merged["notifyTopic"]
    if topic is not None and (not isinstance(topic, str) or not PUBSUB_TOPIC_RE.fullmatch(topic)):
        bad("notifyTopic", f"{topic!r}: give a Pub/Sub topic as projects/PROJECT/topics/TOPIC")
    newest_by = merged["newestBy"]
    if newest_by is not None and (not isinstance(newest_by, str) or not COLUMN_RE.fullmatch(newest_by)):
        bad("newestBy", f"{newest_by!r}: give the name of a column whose greatest value marks the newest row (e.g. updated_at)")
    delete_percent = _as_int(merged["maxDeletePercent"])
    if delete_percent is None or not 0 <= delete_percent <= MAX_DELETE_PERCENT:
        bad(
            "maxDeletePercent",
            f"{merged['maxDeletePercent']!r}: give a whole percent from 0 to {MAX_DELETE_PERCENT} "
            "(a run that would delete more of the corpus deletes nothing and fails; 100 turns the guard off)",
        )

    if not ok:
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
        index=None if index == "none" else index,
        notify_email=merged["notifyEmail"],
        notify_topic=topic,
        newest_by=newest_by,
        max_delete_percent=delete_percent,
        batch_size_set=batch,
    )


_CORPUS_HINTS = {
    "table": "give the table to embed as project.dataset.table (in the stack's location)",
    "key": "give a list of the column(s) that identify a row, e.g. [ticket_id]",
    "text": "give the name of the STRING column to embed",
    "models": "give a non-empty list of the stack's models to embed it with, e.g. [nnlm]",
    "schedule": 'give BigQuery\'s schedule syntax such as "every 24 hours", or "none" to refresh only by hand',
}


def _schedule(value: Any, bad: Any) -> str | None:
    """A schedule BigQuery accepts (bqml_text_embeddings/schedule.py), None for "none"; else reports and returns None."""
    if not isinstance(value, str) or not value.strip():
        bad(f"{value!r}: {_CORPUS_HINTS['schedule']}")
        return None
    try:
        text = schedule.clean(value)
        if text == "none":
            return None
        schedule.check(text)
    except schedule.TooFrequent as exc:
        bad(f"{value!r}: {exc}")
        return None
    except schedule.ScheduleError as exc:
        bad(f"{value!r} is not BigQuery's schedule syntax: {exc}; {_CORPUS_HINTS['schedule']}")
        return None
    return text


def configured_keys() -> set[str]:
    """Every key set in the stack's config, as the language host hands them to the program.

    pulumi.Config reads one key at a time; the whole map is the runtime's (set by the engine or,
    in older hosts, the PULUMI_CONFIG environment variable), which is what a misspelling hides in.
    """
    from pulumi.runtime import config as runtime_config

    return set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())


def from_pulumi() -> Settings:
    """Reads the stack's config (the only place that touches pulumi.Config)."""
    import pulumi

    ours, gcp = pulumi.Config(NAMESPACE), pulumi.Config("gcp")
    raw: dict[str, Any] = {"project": gcp.get("project"), "region": gcp.get("region")}
    for name in ("location", "dataset", "buildDir", "buildJobs"):
        raw[name] = ours.get(name)
    for name in ("models", "modelSources", "samplePredictions", "bert", "textEmbedding", "evaluation", "corpora"):
        try:
            raw[name] = ours.get_object(name)
        except Exception:  # noqa: BLE001 - pulumi raises a bare error for bad JSON
            raise ConfigError(f"invalid configuration:\n  {_key(name)}: not valid JSON/YAML") from None
    return parse(raw, configured_keys())
