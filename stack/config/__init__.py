"""The stack's configuration: read once from Pulumi, validated whole, before anything is declared.

The keys, their defaults, bounds and rules are the package's (bqml_text_embeddings/config/), the
ones TextEmbeddingsTutorial checks its arguments with: this stack reads them from Pulumi's config
(pulumi_config.py) and resolves `buildDir` against the repository.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bqml_text_embeddings.config import parsing
from bqml_text_embeddings.config.corpus_keys import CORPUS_REQUIRED, DEFAULT_CORPUS
from bqml_text_embeddings.config.keys import (
    DEFAULT_BERT,
    DEFAULT_EVALUATION,
    DEFAULT_MODELS,
    DEFAULT_SAMPLES,
    DEFAULT_TEXT_EMBEDDING,
    DEFAULTS,
)
from bqml_text_embeddings.config.problems import ConfigError
from bqml_text_embeddings.config.rules import (
    BERT_PLACEMENTS,
    DEFAULT_BATCH_SIZES,
    ENDPOINT_REGION,
    IMDB_REVIEWS,
    INDEX_TYPES,
    MANAGED_MODELS,
    MAX_ATTEMPTS,
    MAX_BATCH_SIZE,
    MAX_BERT_REPLICAS,
    MAX_COPIED_SAMPLE_ROWS,
    MAX_DELETE_PERCENT,
    MAX_EVALUATION_ROWS,
    MAX_SAMPLE_ROWS,
    MAX_TIME_BUDGET_MINUTES,
    MIN_EVALUATION_ROWS,
    MODEL_CHOICES,
    NAMESPACE,
    PREBUILT_PATH,
)
from bqml_text_embeddings.config.settings import (
    BertSettings,
    CorpusSettings,
    EvaluationSettings,
    SampleSettings,
    Settings,
    TextEmbeddingSettings,
    bert_apart,
    regional_dataset,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def parse(raw: Mapping[str, Any], configured: Iterable[str] = ()) -> Settings:
    """The stack's Settings from raw config values (see bqml_text_embeddings.config.parsing.parse)."""
    return parsing.parse(raw, configured, root=PROJECT_ROOT)


from stack.config.pulumi_config import configured_keys, from_pulumi  # noqa: E402 - it reads parse above

__all__ = [
    "BERT_PLACEMENTS",
    "CORPUS_REQUIRED",
    "DEFAULTS",
    "DEFAULT_BATCH_SIZES",
    "DEFAULT_BERT",
    "DEFAULT_CORPUS",
    "DEFAULT_EVALUATION",
    "DEFAULT_MODELS",
    "DEFAULT_SAMPLES",
    "DEFAULT_TEXT_EMBEDDING",
    "ENDPOINT_REGION",
    "IMDB_REVIEWS",
    "INDEX_TYPES",
    "MANAGED_MODELS",
    "MAX_ATTEMPTS",
    "MAX_BATCH_SIZE",
    "MAX_BERT_REPLICAS",
    "MAX_COPIED_SAMPLE_ROWS",
    "MAX_DELETE_PERCENT",
    "MAX_EVALUATION_ROWS",
    "MAX_SAMPLE_ROWS",
    "MAX_TIME_BUDGET_MINUTES",
    "MIN_EVALUATION_ROWS",
    "MODEL_CHOICES",
    "NAMESPACE",
    "PREBUILT_PATH",
    "PROJECT_ROOT",
    "BertSettings",
    "ConfigError",
    "CorpusSettings",
    "EvaluationSettings",
    "SampleSettings",
    "Settings",
    "TextEmbeddingSettings",
    "bert_apart",
    "configured_keys",
    "from_pulumi",
    "parse",
    "regional_dataset",
]
