"""Local twin of ML.PREDICT: run a built model over texts, write JSONL.

Each output line is `{"content": ..., "<output name>": [...]}`, the output
name coming from the model's signature (as BigQuery names its column).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from model_build.check import INPUT_NAME, SIGNATURE
from model_build.errors import BuildError

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
    if kind == "csv":
        reader = csv.DictReader(io.StringIO(raw))
        if reader.fieldnames is None or column not in reader.fieldnames:
            raise BuildError(f"{name}: no column {column!r} in the CSV header (choose one with --column)")
        return [row[column] or "" for row in reader]
    if kind in ("jsonl", "ndjson"):
        out = []
        for number, line in enumerate(raw.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise BuildError(f"{name}:{number}: not JSON ({exc})") from exc
            if not isinstance(record, dict) or not isinstance(record.get(column), str):
                raise BuildError(f"{name}:{number}: no string field {column!r}")
            out.append(record[column])
        return out
    return [line for line in raw.splitlines() if line.strip()]


def batches(texts: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(texts), size):
        yield texts[start : start + size]


def load_model(model_dir: Path) -> tuple[Any, str]:
    """The loaded SavedModel (which owns its serving function) and its output name."""
    from model_build.builder import quiet_tensorflow

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


def predict(model_dir: Path, texts: list[str], out: IO[str], batch_size: int = DEFAULT_BATCH_SIZE, progress: bool | None = None) -> int:
    """Writes one JSON line per text; returns how many were written."""
    if batch_size < 1:
        raise BuildError(f"--batch-size must be at least 1, got {batch_size}")
    import tensorflow as tf
    from tqdm import tqdm

    loaded, output = load_model(model_dir)
    serving = loaded.signatures[SIGNATURE]
    show = len(texts) > batch_size if progress is None else progress
    written = 0
    with tqdm(total=len(texts), unit="text", disable=not show, file=sys.stderr) as bar:
        for batch in batches(texts, batch_size):
            vectors = serving(**{INPUT_NAME: tf.constant(batch, dtype=tf.string)})[output].numpy()
            for text, vector in zip(batch, vectors, strict=True):
                out.write(json.dumps({INPUT_NAME: text, output: [float(v) for v in vector]}) + "\n")
            written += len(batch)
            bar.update(len(batch))
    return written
