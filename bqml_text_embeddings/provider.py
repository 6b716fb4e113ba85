"""The components every Pulumi language gets through the component provider (provider/PulumiPlugin.yaml)."""

from bqml_text_embeddings.corpus.component import EmbeddedCorpus
from bqml_text_embeddings.models.bert import BertEmbeddingModel
from bqml_text_embeddings.models.connection import VertexConnection
from bqml_text_embeddings.models.managed import ManagedEmbeddingModel
from bqml_text_embeddings.models.tfhub import TfHubEmbeddingModel
from bqml_text_embeddings.tutorial.component import TextEmbeddingsTutorial

NAME = "bqml-text-embeddings"
COMPONENTS = (EmbeddedCorpus, ManagedEmbeddingModel, TfHubEmbeddingModel, BertEmbeddingModel, VertexConnection, TextEmbeddingsTutorial)
