"""The stack's configuration keys: the one definition of their defaults, bounds and documentation.

The parsers enforce what is here; `scripts/config_table.py` writes the configuration tables (docs/configuration.md)
from it, and the tests hold Pulumi.yaml's `config:` block to it.
"""

from __future__ import annotations

from typing import Any

from bqml_text_embeddings.build import catalog, runtimes
from bqml_text_embeddings.config.field import Field, section
from bqml_text_embeddings.config.rules import (
    BERT_PLACEMENTS,
    ENDPOINT_REGION,
    IMDB_REVIEWS,
    MAX_BERT_REPLICAS,
    MAX_COPIED_SAMPLE_ROWS,
    MAX_EVALUATION_ROWS,
    MAX_SAMPLE_ROWS,
    MIN_EVALUATION_ROWS,
    MODEL_CHOICES,
)


def _code(values: Any) -> str:
    return ", ".join(f"`{value}`" for value in values)


_PREBUILT_END = runtimes.get(runtimes.PREBUILT_2_15).end_of_availability

PROJECT = Field("gcp:project", doc="project to deploy into", required=True)
REGION = Field(
    "gcp:region",
    "us-central1",
    "Vertex AI region, the location of BERT's own artifact bucket (Vertex AI reads artifacts only from a bucket in the "
    "endpoint's region) and of BERT's dataset (see [Where BERT's remote model lives](bert.md#where-berts-remote-model-lives)); with BERT, one of the regions "
    "BigQuery's locations page lists for Vertex AI deployed models, and with `bert.remoteModelLocation: dataset` inside "
    "`location` (US: `us-*`; EU: EU member-state regions; a single region: that region)",
)
LOCATION = Field(
    "location", "US", "location of the dataset, the BigQuery connection and the bucket: `US`, `EU` or a region", kind="string"
)
DATASET = Field("dataset", "tf_models_tutorial", "dataset id", kind="string")
MODELS = Field(
    "models",
    ["nnlm", "swivel"],
    f"which of {_code(MODEL_CHOICES)} to deploy",
    kind="array",
    choices=MODEL_CHOICES,
)
MODEL_SOURCES = Field(
    "modelSources",
    {},
    f"overrides of source handles, keys {_code(catalog.ALL_SOURCE_KEYS)}; values are TF Hub URLs, `gs://` paths or local "
    "SavedModel directories (mirrors, air-gapped builds). A URL's credentials (`user:password@`, or query values such as "
    "`token`, `key`, `sig`, `X-Goog-Signature`) are used to fetch it but written nowhere: `.build/*/manifest.json`, build "
    "errors and `python -m bqml_text_embeddings.build list` show them as `REDACTED` (the cache key still hashes the whole "
    "URL, so a new one rebuilds). Keep such a URL a Pulumi secret (`pulumi config set --secret --path …`)",
    kind="object",
    choices=catalog.ALL_SOURCE_KEYS,
)
BUILD_DIR = Field("buildDir", ".build", "build cache, relative to the project", kind="string", fix="give a directory path")
BUILD_JOBS = Field(
    "buildJobs",
    0,
    "models built at once, each in its own process (~1 GiB each, more for BERT); `0`: one per core",
    kind="integer",
    low=0,
    fix="give how many models may build at once, or 0 for one per core",
)
SAMPLES = section(
    "samplePredictions",
    f"sample embeddings; `rows: 0` turns them off; at most {MAX_SAMPLE_ROWS:,} rows; the table must be readable from "
    "`location` (the public IMDB table is in `US`); `column` is read as a quoted identifier, so a column named "
    "`current_date` or `order` is that column",
    Field("rows", 500, low=0, high=MAX_SAMPLE_ROWS, fix=f"give a whole number from 0 (off) to {MAX_SAMPLE_ROWS:,}"),
    Field("table", IMDB_REVIEWS),
    Field("column", "review"),
)
BERT = section(
    "bert",
    f"endpoint sizing (`maxReplicas` 1 to {MAX_BERT_REPLICAS}: a cost guard, every replica is billed while deployed; the "
    f"policy pack caps it lower by default), and the runtime that serves BERT: `{runtimes.TF_SERVING}` (TensorFlow Serving "
    f"2.20.0's image) or `{runtimes.PREBUILT_2_15}` (Vertex AI's prebuilt image, refused after {_PREBUILT_END}); "
    "`servingImage` (optional) replaces the runtime's image with one of yours in Artifact Registry in `gcp:region`, by tag, "
    "digest or both, and must be what the runtime describes (see [Which runtime serves BERT](bert.md#which-runtime-serves-bert)); `remoteModelLocation`: "
    f"`{ENDPOINT_REGION}` (BERT's remote model and what queries it in a dataset in `gcp:region`, the rows they read copied "
    f"there; at most {MAX_COPIED_SAMPLE_ROWS:,} sample rows) or `dataset` (in `dataset`, as the tutorial does; see [Where "
    "BERT's remote model lives](bert.md#where-berts-remote-model-lives))",
    Field("machineType", "n1-standard-2"),
    Field("minReplicas", 1, low=1),
    Field(
        "maxReplicas",
        1,
        low=1,
        high=MAX_BERT_REPLICAS,
        fix=f"give a whole number from 1 to {MAX_BERT_REPLICAS} (a cost guard: every replica is billed while deployed)",
    ),
    Field("runtime", runtimes.DEFAULT, choices=tuple(runtimes.RUNTIMES), fix=f"choose one of {list(runtimes.RUNTIMES)}"),
    # None: the runtime's own image (TensorFlow Serving's through the stack's remote repository of Docker Hub
    # in gcp:region, or the prebuilt image from the registry nearest gcp:region).
    Field("servingImage", None),
    Field(
        "remoteModelLocation",
        ENDPOINT_REGION,
        choices=BERT_PLACEMENTS,
        fix=f"choose {ENDPOINT_REGION} (a dataset in gcp:region, as BigQuery's locations page requires) "
        "or dataset (the stack's dataset, as the tutorial does)",
    ),
)
TEXT_EMBEDDING = section(
    "textEmbedding",
    "the Vertex AI managed embedding model behind `textembedding`, e.g. `gemini-embedding-001`",
    Field("endpoint", "text-embedding-005"),
)
EVALUATION = section(
    "evaluation",
    "labelled IMDB reviews each model embeds per split (train and test, half positive, half negative); an even number "
    f"from {MIN_EVALUATION_ROWS} to {MAX_EVALUATION_ROWS:,}; `0` turns the evaluation off. The IMDB table is in `US`: "
    "elsewhere set `0`",
    Field(
        "rows",
        1000,
        low=MIN_EVALUATION_ROWS,
        high=MAX_EVALUATION_ROWS,
        fix=f"give 0 (off) or an even number from {MIN_EVALUATION_ROWS} to {MAX_EVALUATION_ROWS:,} "
        "(reviews per split, half positive, half negative)",
    ),
)
CORPORA = Field(
    "corpora",
    {},
    "your own tables, kept embedded, indexed and searchable: see [Embed your own table](#embed-your-own-table)",
    kind="object",
)

# In the order of docs/configuration.md's table. gcp:project and gcp:region are the Google provider's; the rest are ours.
KEYS: tuple[Field, ...] = (
    PROJECT, REGION, LOCATION, DATASET, MODELS, MODEL_SOURCES, BUILD_DIR, BUILD_JOBS,
    SAMPLES, BERT, TEXT_EMBEDDING, CORPORA, EVALUATION,
)
OURS: tuple[Field, ...] = tuple(field for field in KEYS if ":" not in field.name)

# The defaults as the parsers and tests have always read them.
DEFAULT_MODELS = tuple(MODELS.default)
DEFAULT_SAMPLES = SAMPLES.default
DEFAULT_BERT = BERT.default
DEFAULT_TEXT_EMBEDDING = TEXT_EMBEDDING.default
DEFAULT_EVALUATION = EVALUATION.default
DEFAULTS: dict[str, Any] = {"region": REGION.default, **{field.name: field.default for field in OURS}}
