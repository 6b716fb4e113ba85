"""The stack's configuration: read once, validated whole, before anything is declared.

Every value that reaches SQL or a resource name is checked against what BigQuery or Vertex AI
accept (bqml_text_embeddings/validate.py); an error names the key and what is allowed.

    keys.py, corpus_keys.py  the keys: defaults, bounds, fixes, the README's documentation
    rules.py                 the limits and choices those take, with why
    field.py                 what a key is
    settings.py              what the validated configuration means (Settings and its parts)
    parsing.py               parse(): the stack's own keys, then each section
    sections.py, bert.py, corpora.py   the sections
    placement.py             where BERT's remote model may live
    unknown.py               keys nobody reads, and the nearest known one
    problems.py              ConfigError: every problem, each naming its key
    pulumi_config.py         from_pulumi(): reading Pulumi's config
"""

from stack.config.corpus_keys import CORPUS_REQUIRED, DEFAULT_CORPUS
from stack.config.keys import (
    DEFAULT_BERT,
    DEFAULT_EVALUATION,
    DEFAULT_MODELS,
    DEFAULT_SAMPLES,
    DEFAULT_TEXT_EMBEDDING,
    DEFAULTS,
)
from stack.config.parsing import parse
from stack.config.problems import ConfigError
from stack.config.pulumi_config import configured_keys, from_pulumi
from stack.config.rules import (
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
    PROJECT_ROOT,
)
from stack.config.settings import (
    BertSettings,
    CorpusSettings,
    EvaluationSettings,
    SampleSettings,
    Settings,
    TextEmbeddingSettings,
    bert_apart,
    regional_dataset,
)

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
