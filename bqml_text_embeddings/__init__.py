"""BigQuery text embeddings as Pulumi components.

    from bqml_text_embeddings import EmbeddedCorpus, ManagedEmbeddingModel, VertexConnection

Each component takes typed Args (a TypedDict: its schema for every Pulumi language, see
PulumiPlugin.yaml) and exports what a program wires onward as outputs. Importing the package
imports no component (and no TensorFlow): each is loaded when first named.
"""

import importlib
from typing import Any

_EXPORTS = {
    "EmbeddedCorpus": "bqml_text_embeddings.corpus.component",
    "EmbeddedCorpusArgs": "bqml_text_embeddings.corpus.component",
    "TfHubEmbeddingModel": "bqml_text_embeddings.models.tfhub",
    "TfHubEmbeddingModelArgs": "bqml_text_embeddings.models.tfhub",
    "BertEmbeddingModel": "bqml_text_embeddings.models.bert",
    "BertEmbeddingModelArgs": "bqml_text_embeddings.models.bert",
    "ManagedEmbeddingModel": "bqml_text_embeddings.models.managed",
    "ManagedEmbeddingModelArgs": "bqml_text_embeddings.models.managed",
    "VertexConnection": "bqml_text_embeddings.models.connection",
    "VertexConnectionArgs": "bqml_text_embeddings.models.connection",
    "TextEmbeddingsTutorial": "bqml_text_embeddings.tutorial.component",
    "TextEmbeddingsTutorialArgs": "bqml_text_embeddings.tutorial.component",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'bqml_text_embeddings' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
