"""Local twin of the stack's embedding_quality: how well each model's embeddings separate two labels.

Each model embeds the texts; a logistic regression (scikit-learn) is fitted on
the training rows' vectors and scored on the test rows with the metrics
BigQuery ML's ML.EVALUATE reports for LOGISTIC_REG. The positive class is the
label that sorts last (Positive over Negative, 1 over 0, true over false).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bqml_text_embeddings.build import predict
from bqml_text_embeddings.build.errors import BuildError

METRICS = ("accuracy", "precision", "recall", "f1_score", "roc_auc", "log_loss")
MIN_PER_CLASS = 10
SPLIT_SEED = 0  # the half/half split without a split column is the same on every run
SPLITS = ("train", "test")


@dataclass(frozen=True)
class LabelledTexts:
    texts: list[str]
    labels: list[int]  # 1 for the positive class
    train: list[int]  # row indices
    test: list[int]
    positive: str
    negative: str


def load(input_path: str, text_column: str, label_column: str, split_column: str | None = None) -> LabelledTexts:
    """The labelled rows of a CSV/JSONL file, checked and split; one clear BuildError otherwise."""
    columns = {text_column: "--text-column", label_column: "--label-column"}
    if split_column:
        columns[split_column] = "--split-column"
    records = predict.read_records(input_path, columns)
    counts = Counter(record[label_column].strip() for record in records)
    if len(counts) != 2:
        shown = ", ".join(f"{label!r} ({n})" for label, n in sorted(counts.items())) or "none"
        raise BuildError(f"{input_path}: column {label_column!r} must hold exactly two labels, found {len(counts)}: {shown}")
    small = {label: n for label, n in counts.items() if n < MIN_PER_CLASS}
    if small:
        raise BuildError(
            f"{input_path}: each label needs at least {MIN_PER_CLASS} rows, "
            + ", ".join(f"{label!r} has {n}" for label, n in sorted(small.items()))
        )
    negative, positive = sorted(counts)
    labels = [int(record[label_column].strip() == positive) for record in records]
    texts = [record[text_column] for record in records]
    if split_column:
        train, test = _given_split(records, split_column, labels, input_path)
    else:
        train, test = _half_and_half(labels)
    return LabelledTexts(texts, labels, train, test, positive, negative)


def _given_split(records: list[dict[str, str]], column: str, labels: list[int], name: str) -> tuple[list[int], list[int]]:
    values = [record[column].strip().lower() for record in records]
    unknown = sorted(set(values) - set(SPLITS))
    if unknown:
        raise BuildError(f"{name}: column {column!r} may hold only {list(SPLITS)}, found {unknown}")
    parts = {split: [i for i, value in enumerate(values) if value == split] for split in SPLITS}
    for split, rows in parts.items():
        if {labels[i] for i in rows} != {0, 1}:
            raise BuildError(f"{name}: the {split} rows (column {column!r}) must hold both labels")
    return parts["train"], parts["test"]


def _half_and_half(labels: list[int]) -> tuple[list[int], list[int]]:
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(list(range(len(labels))), test_size=0.5, stratify=labels, random_state=SPLIT_SEED)
    return sorted(train), sorted(test)


def classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def measure(vectors: Any, data: LabelledTexts) -> dict[str, Any]:
    """The metrics of a classifier fitted on the training rows' vectors, on the test rows."""
    import numpy as np
    from sklearn import metrics

    x, y = np.asarray(vectors), np.asarray(data.labels)
    model = classifier().fit(x[data.train], y[data.train])
    truth = y[data.test]
    probability = model.predict_proba(x[data.test])[:, 1]
    guess = (probability >= 0.5).astype(int)
    return {
        "accuracy": float(metrics.accuracy_score(truth, guess)),
        "precision": float(metrics.precision_score(truth, guess, zero_division=0)),
        "recall": float(metrics.recall_score(truth, guess, zero_division=0)),
        "f1_score": float(metrics.f1_score(truth, guess, zero_division=0)),
        "roc_auc": float(metrics.roc_auc_score(truth, probability)),
        "log_loss": float(metrics.log_loss(truth, probability, labels=[0, 1])),
        "rows_train": len(data.train),
        "rows_test": len(data.test),
        "dims": int(x.shape[1]),
    }


def evaluate(models: Mapping[str, Path], data: LabelledTexts, batch_size: int = predict.DEFAULT_BATCH_SIZE) -> dict[str, dict[str, Any]]:
    """{model: metrics} for each model directory, every model on the same rows and split."""
    import numpy as np

    results = {}
    for name, model_dir in models.items():
        chunks = [vectors for _, _, vectors in predict.embedded(model_dir, data.texts, batch_size, label=name)]
        results[name] = measure(np.concatenate(chunks), data)
    return results


def format_table(results: Mapping[str, Mapping[str, Any]], data: LabelledTexts) -> str:
    width = max(len("model"), *(len(name) for name in results))
    head = f"{'model':<{width}}  {'dims':>5}  {'rows_train':>10}  {'rows_test':>9}  " + "  ".join(f"{m:>9}" for m in METRICS)
    lines = [f"positive class: {data.positive!r} (negative: {data.negative!r})", head]
    for name, row in results.items():
        figures = "  ".join(f"{row[m]:>9.4f}" for m in METRICS)
        lines.append(f"{name:<{width}}  {row['dims']:>5}  {row['rows_train']:>10}  {row['rows_test']:>9}  {figures}")
    return "\n".join(lines)
