"""Local twin of ML.PREDICT: run a built model over texts, write JSONL.

Each output line is `{"content": ..., "<output name>": [...]}`, the output
name coming from the model's signature (as BigQuery names its column).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from bqml_text_embeddings.build.check import INPUT_NAME, SIGNATURE
from bqml_text_embeddings.build.errors import BuildError

DEFAULT_BATCH_SIZE = 128  # what BigQuery sends a remote model per request


def read_texts(texts: list[str], input_path: str | None, column: str = INPUT_NAME) -> list[str]:
    """Texts from arguments, a .txt/.csv/.jsonl file, or stdin ('-' or no arguments)."""
    if texts and input_path:
        raise BuildError("give texts as arguments or --input, not both")
    if texts:
        return list(texts)
    if input_path in (None, "-"):
        return _parse(sys.stdin.read(), "stdin", "txt", column)
    path = Path(input_path)
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read input file {input_path}: {exc.strerror if isinstance(exc, OSError) else exc}") from exc
    suffix = path.suffix.lower().lstrip(".")
    return _parse(raw, input_path, suffix if suffix in ("csv", "jsonl", "ndjson") else "txt", column)


def _parse(raw: str, name: str, kind: str, column: str) -> list[str]:
    if kind in ("csv", "jsonl", "ndjson"):
        return [record[column] for record in _records(raw, name, kind, {column: "--column"})]
    return [line for line in raw.splitlines() if line.strip()]


def read_records(input_path: str, columns: Mapping[str, str]) -> list[dict[str, str]]:
    """Rows of a .csv or .jsonl file, each with the named string columns.

    `columns` maps each column to the option that chose it, for the error message.
    """
    path = Path(input_path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("csv", "jsonl", "ndjson"):
        raise BuildError(f"{input_path}: give a .csv or .jsonl file")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError(f"cannot read input file {input_path}: {exc.strerror if isinstance(exc, OSError) else exc}") from exc
    return _records(raw, input_path, kind, columns)


def _records(raw: str, name: str, kind: str, columns: Mapping[str, str]) -> list[dict[str, str]]:
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(raw))
        missing = [c for c in columns if reader.fieldnames is None or c not in reader.fieldnames]
        if missing:
            raise BuildError(f"{name}: no column {missing[0]!r} in the CSV header (choose one with {columns[missing[0]]})")
        return [{c: row[c] or "" for c in columns} for row in reader]
    out = []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise BuildError(f"{name}:{number}: not JSON ({exc})") from exc
        for column, option in columns.items():
            if not isinstance(record, dict) or not isinstance(record.get(column), str):
                raise BuildError(f"{name}:{number}: no string field {column!r} (choose one with {option})")
        out.append({c: record[c] for c in columns})
    return out


def batches(texts: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def load_model(model_dir: Path) -> tuple[Any, str]:
    """The loaded SavedModel (which owns its serving function) and its output name."""
    from bqml_text_embeddings.build.builder import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 - registers the ops BERT's preprocess needs

    try:
        loaded = tf.saved_model.load(str(model_dir))
    except Exception as exc:
        raise BuildError(f"cannot load a SavedModel from {model_dir}: {str(exc).splitlines()[0]}") from exc
    serving = loaded.signatures.get(SIGNATURE)
    if serving is None:
        raise BuildError(f"{model_dir} has no {SIGNATURE!r} signature")
    (output,) = serving.structured_outputs
    return loaded, output


def embedded(
    model_dir: Path, texts: list[str], batch_size: int = DEFAULT_BATCH_SIZE, progress: bool | None = None, label: str = ""
) -> Iterator[tuple[str, list[str], Any]]:
    """(output name, batch of texts, their vectors) for each batch, with a progress bar on long inputs."""
    if batch_size < 1:
        raise BuildError(f"--batch-size must be at least 1, got {batch_size}")
    import tensorflow as tf
    from tqdm import tqdm

    loaded, output = load_model(model_dir)
    serving = loaded.signatures[SIGNATURE]
    show = len(texts) > batch_size if progress is None else progress
    with tqdm(total=len(texts), unit="text", desc=label or None, disable=not show, file=sys.stderr) as bar:
        for batch in batches(texts, batch_size):
            yield output, batch, serving(**{INPUT_NAME: tf.constant(batch, dtype=tf.string)})[output].numpy()
            bar.update(len(batch))


def predict(model_dir: Path, texts: list[str], out: IO[str], batch_size: int = DEFAULT_BATCH_SIZE, progress: bool | None = None) -> int:
    """Writes one JSON line per text; returns how many were written."""
    written = 0
    for output, batch, vectors in embedded(model_dir, texts, batch_size, progress):
        for text, vector in zip(batch, vectors, strict=True):
            out.write(json.dumps({INPUT_NAME: text, output: vector.tolist()}) + "\n")
        written += len(batch)
    return written
