"""Small TF-Hub-format SavedModels shaped like the tutorial's three models.

The real modules live on TF Hub, which tests cannot reach. These are built
locally with the same calling conventions, so the real build step
(`TextEmbeddingModelGenerator`) runs on them unchanged:

- a word-embedding module (NNLM, SWIVEL): a batch of strings in, a float
  matrix [batch, dims] out; normalises, splits on white space, looks words up
  in a vocabulary asset and combines their vectors with sqrt-n;
- a BERT-style preprocess module built from tensorflow_text ops (these make a
  model unimportable into BigQuery) and an encoder that takes its dict and
  returns a dict with `pooled_output`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf

BERT_SEQ_LEN = 128
BERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


def _write_vocab(directory: Path, words: Iterable[str]) -> str:
    path = directory / "vocab.txt"
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return str(path)


class _WordEmbedding(tf.Module):
    def __init__(self, vocab_file: str, vocab_size: int, dims: int, seed: int) -> None:
        super().__init__()
        initializer = tf.lookup.TextFileInitializer(
            vocab_file,
            tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
        )
        # One out-of-vocabulary bucket, as the real NNLM modules have.
        self.table = tf.lookup.StaticHashTable(initializer, default_value=vocab_size)
        rng = np.random.default_rng(seed)
        self.embeddings = tf.Variable(
            rng.standard_normal((vocab_size + 1, dims), dtype=np.float32) / np.sqrt(dims),
            name="embeddings",
        )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, sentences: tf.Tensor) -> tf.Tensor:
        normalized = tf.strings.lower(tf.strings.regex_replace(sentences, r"[^\w\s]", " "))
        tokens = tf.strings.split(normalized)
        ids = tf.ragged.map_flat_values(self.table.lookup, tokens).to_sparse()
        return tf.nn.safe_embedding_lookup_sparse(self.embeddings, ids, combiner="sqrtn")


def save_word_embedding_module(
    path: Path, words: list[str], dims: int, seed: int = 0, text_ops: bool = False
) -> Path:
    """Saves a hub-format word-embedding module with `words` as its vocabulary.

    With `text_ops`, it tokenises with tensorflow_text (BigQuery cannot import that).
    """
    path = Path(path)
    module_class = _TextOpsWordEmbedding if text_ops else _WordEmbedding
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = _write_vocab(Path(scratch), words)
        tf.saved_model.save(module_class(vocab_file, len(words), dims, seed), str(path))
    return path


class _TextOpsWordEmbedding(_WordEmbedding):
    """Right signature and shape, but tokenises with a tensorflow_text op."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, sentences: tf.Tensor) -> tf.Tensor:
        import tensorflow_text as text

        tokens = text.WhitespaceTokenizer().tokenize(tf.strings.lower(sentences))
        ids = tf.ragged.map_flat_values(self.table.lookup, tokens).to_sparse()
        return tf.nn.safe_embedding_lookup_sparse(self.embeddings, ids, combiner="sqrtn")


class _BertPreprocess(tf.Module):
    def __init__(self, vocab_file: str, round_robin: bool = False) -> None:
        super().__init__()
        import tensorflow_text as text

        self.tokenizer = text.BertTokenizer(vocab_file, lower_case=False, token_out_type=tf.int32)
        # tf_text.RoundRobinTrimmer: in current tensorflow-text (2.15.0 has it) an op of its own,
        # TFText>RoundRobinTrim, which the tensorflow-text 2.12.1 that TensorFlow Serving 2.14-2.19 link lacks.
        self.trimmer = text.RoundRobinTrimmer(max_seq_length=BERT_SEQ_LEN - 2) if round_robin else None
        self._cls = BERT_SPECIAL_TOKENS.index("[CLS]")
        self._sep = BERT_SPECIAL_TOKENS.index("[SEP]")

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, sentences: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow_text as text

        tokens = self.tokenizer.tokenize(sentences).merge_dims(-2, -1)
        if self.trimmer is not None:
            (tokens,) = self.trimmer.trim([tokens])
        else:
            tokens = tokens[:, : BERT_SEQ_LEN - 2]
        ids, type_ids = text.combine_segments([tokens], self._cls, self._sep)
        word_ids, mask = text.pad_model_inputs(ids, max_seq_length=BERT_SEQ_LEN)
        type_ids, _ = text.pad_model_inputs(type_ids, max_seq_length=BERT_SEQ_LEN)
        return {"input_word_ids": word_ids, "input_mask": mask, "input_type_ids": type_ids}


_ENCODER_INPUTS = {
    name: tf.TensorSpec([None, None], tf.int32, name=name)
    for name in ("input_word_ids", "input_mask", "input_type_ids")
}


class _BertEncoder(tf.Module):
    def __init__(self, vocab_size: int, dims: int, seed: int) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.word_embeddings = tf.Variable(
            rng.standard_normal((vocab_size, dims), dtype=np.float32) / np.sqrt(dims)
        )
        self.type_embeddings = tf.Variable(
            rng.standard_normal((2, dims), dtype=np.float32) / np.sqrt(dims)
        )
        self.pooler = tf.Variable(
            rng.standard_normal((dims, dims), dtype=np.float32) / np.sqrt(dims)
        )

    @tf.function(input_signature=[_ENCODER_INPUTS])
    def __call__(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        mask = tf.cast(inputs["input_mask"], tf.float32)[..., tf.newaxis]
        sequence = (
            tf.gather(self.word_embeddings, inputs["input_word_ids"])
            + tf.gather(self.type_embeddings, inputs["input_type_ids"])
        ) * mask
        mean = tf.reduce_sum(sequence, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
        pooled = tf.tanh(tf.matmul(mean, self.pooler))
        return {"pooled_output": pooled, "sequence_output": sequence, "default": pooled}


def save_bert_modules(directory: Path, words: list[str], dims: int = 768, seed: int = 0) -> tuple[Path, Path]:
    """Saves a BERT-style (preprocess, encoder) pair; returns their paths."""
    directory = Path(directory)
    preprocess_path, encoder_path = save_bert_preprocess(directory / "bert_preprocess", words), directory / "bert_encoder"
    tf.saved_model.save(_BertEncoder(len(_bert_vocab(words)), dims, seed), str(encoder_path))
    return preprocess_path, encoder_path


def _bert_vocab(words: list[str]) -> list[str]:
    return list(BERT_SPECIAL_TOKENS) + [w for w in words if w not in BERT_SPECIAL_TOKENS]


def save_bert_preprocess(path: Path, words: list[str], round_robin: bool = False) -> Path:
    """A BERT-style preprocess module; `round_robin` trims with tf_text.RoundRobinTrimmer (a newer op)."""
    with tempfile.TemporaryDirectory() as scratch:
        vocab_file = _write_vocab(Path(scratch), _bert_vocab(words))
        tf.saved_model.save(_BertPreprocess(vocab_file, round_robin), str(path))
    return Path(path)


class _IntegerModel(tf.Module):
    """A hub-format module that is not a text-embedding model (takes numbers)."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = tf.Variable(2.0)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        return x * self.scale


def save_non_text_module(path: Path) -> Path:
    tf.saved_model.save(_IntegerModel(), str(path))
    return Path(path)


def demo_words(count: int) -> list[str]:
    """A deterministic vocabulary: real words first, then synthetic ones."""
    base = (
        "the a movie film good bad great awful acting plot story actor actress "
        "director scene love hate boring funny brilliant terrible best worst"
    ).split()
    return base[:count] + [f"w{i:07d}" for i in range(max(0, count - len(base)))]


def fresh_env() -> dict[str, str]:
    """Environment for subprocesses: quiet TensorFlow, no GPU probing."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("CUDA_VISIBLE_DEVICES", "")
    return env
