"""The stack's limits and choices, each with why it is what it is.

The configuration's table of keys (keys.py, corpus_keys.py) takes its bounds from here, and so
do the error messages and the configuration table generated from it (docs/configuration.md).
"""

from __future__ import annotations

from bqml_text_embeddings import locations
from bqml_text_embeddings.build import catalog

NAMESPACE = "bqml-text-embeddings"

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
# Google's prebuilt prediction images (Vertex AI docs, "Prebuilt containers for inference").
PREBUILT_PATH = "vertex-ai/prediction/"

# Rows a refresh sends to a model per statement. Imported models only cost BigQuery compute; a
# remote model's rows share Vertex AI's quota (text-embedding-005: 1,500 requests a minute by
# default), and rows past it come back retryable and unbilled, so its batches stay small enough
# to finish in minutes and to commit what they embedded.
IMPORTED_BATCH_SIZE = 100_000
REMOTE_BATCH_SIZE = 10_000
REMOTE_MODELS = ("bert", *MANAGED_MODELS)
DEFAULT_BATCH_SIZES = {model: REMOTE_BATCH_SIZE if model in REMOTE_MODELS else IMPORTED_BATCH_SIZE for model in MODEL_CHOICES}
MAX_BATCH_SIZE = 1_000_000
MAX_ATTEMPTS = 20
# A refresh deletes rows whose key left the source; more than this share at once is far more often an
# empty or partial load (a truncate-and-reload, a failed load, row-level security) than real deletes.
DEFAULT_DELETE_PERCENT = 10
MAX_DELETE_PERCENT = 100
# A script may run 24 hours and each of its statements 6 (BigQuery's limits); a run stops
# starting batches after its budget, so the budget stays well under both.
MAX_TIME_BUDGET_MINUTES = 360
INDEX_TYPES = ("IVF", "TREE_AH")
NO_INDEX = "none"


def table_location(table: str) -> str | None:
    """Where a project.dataset.table lives, if that is known without asking BigQuery."""
    return locations.KNOWN_TABLE_LOCATIONS.get(table.rsplit(".", 1)[0])
