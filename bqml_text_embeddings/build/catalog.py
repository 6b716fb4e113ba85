"""The tutorial's three models: where they come from, what they emit, who serves them.

Importing this module must stay cheap (no TensorFlow): the Pulumi program and
the CLI's `list` read it on every run.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Target(enum.StrEnum):
    """Who serves the built model."""

    BIGQUERY = "bigquery"  # imported with CREATE MODEL ... model_type='TENSORFLOW'
    VERTEX = "vertex"  # Vertex AI endpoint behind a BigQuery remote model


@dataclass(frozen=True)
class SourceRole:
    """One TF Hub handle a model is built from.

    `key` is the name users override it by (config `modelSources`, CLI
    `--source KEY=HANDLE`); `generator_arg` is the matching keyword of
    `TextEmbeddingModelGenerator`. `approx_mib` is the default source's size
    (its variables: parameters x 4 bytes), so that concurrent builds start
    the biggest first.
    """

    key: str
    default: str
    generator_arg: str
    approx_mib: int


@dataclass(frozen=True)
class ModelSpec:
    name: str
    dims: int
    target: Target
    sources: tuple[SourceRole, ...]
    description: str

    def source_keys(self) -> tuple[str, ...]:
        return tuple(role.key for role in self.sources)


# The defaults are the TF Hub handles the tutorial uses; they equal
# bigquery_ml_utils' TextEmbeddingModelLinks (a test keeps them in step), but
# are spelled out here so reading the catalogue never imports TensorFlow.
MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="nnlm",
            dims=50,
            target=Target.BIGQUERY,
            sources=(
                SourceRole(
                    "nnlm",
                    "https://tfhub.dev/google/nnlm-en-dim50-with-normalization/2",
                    "nnlm_link",
                    200,  # 1M words x 50 dims
                ),
            ),
            description="Neural-net language model, 50 dims",
        ),
        ModelSpec(
            name="swivel",
            dims=20,
            target=Target.BIGQUERY,
            sources=(
                SourceRole(
                    "swivel",
                    "https://tfhub.dev/google/tf2-preview/gnews-swivel-20dim/1",
                    "swivel_link",
                    2,  # 20k words x 20 dims
                ),
            ),
            description="Submatrix-wise vector embedding learner, 20 dims",
        ),
        ModelSpec(
            name="bert",
            dims=768,
            target=Target.VERTEX,
            sources=(
                SourceRole(
                    "bertPreprocess",
                    "https://tfhub.dev/tensorflow/bert_en_cased_preprocess/3",
                    "bert_preprocess_link",
                    1,  # a vocabulary and tokenizer graphs
                ),
                SourceRole(
                    "bertEncoder",
                    "https://tfhub.dev/tensorflow/bert_en_cased_L-12_H-768_A-12/4",
                    "bert_encoder_link",
                    420,  # 110M parameters
                ),
            ),
            description="BERT (cased, L-12 H-768 A-12) with its preprocess model, 768 dims",
        ),
    )
}

ALL_SOURCE_KEYS: tuple[str, ...] = tuple(k for spec in MODELS.values() for k in spec.source_keys())


class UnknownModelError(ValueError):
    pass


def get(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownModelError(
            f"unknown model {name!r}: choose one of {', '.join(MODELS)}"
        ) from None
