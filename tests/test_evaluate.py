"""`python -m bqml_text_embeddings.build evaluate`: the local twin of embedding_quality, on labelled data made here.

The texts are drawn from the test models' own vocabulary: positive reviews
from one half of the words, negative from the other. A word-embedding model
separates them; the same texts with shuffled labels score near chance.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pytest

from bqml_text_embeddings.build import evaluate, predict
from bqml_text_embeddings.build.errors import BuildError
from tests.conftest import run_cli
from tests.fakehub import demo_words

WORDS = demo_words(60)
METRIC_KEYS = {"accuracy", "precision", "recall", "f1_score", "roc_auc", "log_loss", "rows_train", "rows_test", "dims"}


def _reviews(rows_per_label: int, seed: int = 7, shuffled: bool = False, split: bool = False) -> list[dict[str, str]]:
    rng = random.Random(seed)
    out = []
    for label, vocabulary in (("Positive", WORDS[:30]), ("Negative", WORDS[30:])):
        for i in range(rows_per_label):
            row = {"review": " ".join(rng.choices(vocabulary, k=6)), "label": label}
            if split:
                row["split"] = "train" if i % 2 == 0 else "test"
            out.append(row)
    if shuffled:
        labels = [row["label"] for row in out]
        rng.shuffle(labels)
        for row, label in zip(out, labels, strict=True):
            row["label"] = label
    return out


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_separable_set_scores_high_and_agrees_with_scikit_learn(built: dict, tmp_path: Path) -> None:
    from sklearn import metrics

    path = _write_csv(tmp_path / "reviews.csv", _reviews(60, split=True))
    data = evaluate.load(str(path), "review", "label", "split")
    assert (data.positive, data.negative) == ("Positive", "Negative")
    assert len(data.train) == len(data.test) == 60
    results = evaluate.evaluate({"nnlm": built["nnlm"].path}, data)
    ours = results["nnlm"]
    assert set(ours) == METRIC_KEYS and ours["dims"] == 50
    assert ours["accuracy"] >= 0.9 and ours["roc_auc"] >= 0.95

    # The same figures from scikit-learn's own functions, on vectors from the predict path.
    vectors = np.concatenate([v for _, _, v in predict.embedded(built["nnlm"].path, data.texts)])
    x, y = vectors, np.asarray(data.labels)
    fitted = evaluate.classifier().fit(x[data.train], y[data.train])
    probability = fitted.predict_proba(x[data.test])[:, 1]
    truth, guess = y[data.test], fitted.predict(x[data.test])
    assert ours["accuracy"] == pytest.approx(metrics.accuracy_score(truth, guess))
    assert ours["precision"] == pytest.approx(metrics.precision_score(truth, guess))
    assert ours["recall"] == pytest.approx(metrics.recall_score(truth, guess))
    assert ours["f1_score"] == pytest.approx(metrics.f1_score(truth, guess))
    assert ours["roc_auc"] == pytest.approx(metrics.roc_auc_score(truth, probability))
    assert ours["log_loss"] == pytest.approx(metrics.log_loss(truth, probability))


def test_shuffled_labels_score_near_chance(built: dict, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "shuffled.csv", _reviews(100, shuffled=True))
    data = evaluate.load(str(path), "review", "label")
    # Without a split column: a stratified half/half split, the same on every run.
    assert len(data.train) == len(data.test) == 100
    assert sum(data.labels[i] for i in data.test) == 50
    assert evaluate.load(str(path), "review", "label").train == data.train
    results = evaluate.evaluate({"nnlm": built["nnlm"].path, "swivel": built["swivel"].path}, data)
    for name, row in results.items():
        assert 0.3 <= row["accuracy"] <= 0.7, (name, row)
        assert 0.3 <= row["roc_auc"] <= 0.7, (name, row)
        assert row["log_loss"] > 0.6, (name, row)


def test_the_cli_prints_a_row_per_model_and_writes_the_metrics(built: dict, tmp_path: Path) -> None:
    rows = _reviews(40)
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "metrics.json"
    result = run_cli(
        "evaluate", str(built["nnlm"].path), str(built["swivel"].path),
        "--input", str(path), "--text-column", "review", "--label-column", "label", "--output", str(out), "--batch-size", "16",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "positive class: 'Positive' (negative: 'Negative')"
    assert lines[1].split() == ["model", "dims", "rows_train", "rows_test", *evaluate.METRICS]
    written = json.loads(out.read_text())
    assert list(written) == [str(built["nnlm"].path), str(built["swivel"].path)]
    for line, (name, row) in zip(lines[2:], written.items(), strict=True):
        assert set(row) == METRIC_KEYS
        cells = line.split()
        assert cells[:4] == [name, str(row["dims"]), "40", "40"]
        assert [float(c) for c in cells[4:]] == pytest.approx([row[m] for m in evaluate.METRICS], abs=5e-5)
    assert "it/s" in result.stderr or "text/s" in result.stderr  # 80 texts in batches of 16: a progress bar


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        ([{"text": "good", "label": "Positive"}] * 20, ("review", "label", None), "no column 'review' in the CSV header (choose one with --text-column)"),
        ([{"review": "good", "stars": "5"}] * 20, ("review", "label", None), "no column 'label' in the CSV header (choose one with --label-column)"),
        (
            [{"review": "x", "label": label} for label in ["a"] * 10 + ["b"] * 10 + ["c"] * 10],
            ("review", "label", None),
            "column 'label' must hold exactly two labels, found 3: 'a' (10), 'b' (10), 'c' (10)",
        ),
        ([{"review": "x", "label": "a"}] * 30, ("review", "label", None), "must hold exactly two labels, found 1"),
        (
            [{"review": "x", "label": label} for label in ["yes"] * 30 + ["no"] * 9],
            ("review", "label", None),
            "each label needs at least 10 rows, 'no' has 9",
        ),
        (
            [{"review": "x", "label": label, "part": "valid"} for label in ["yes", "no"] * 10],
            ("review", "label", "part"),
            "column 'part' may hold only ['train', 'test'], found ['valid']",
        ),
        (
            [{"review": "x", "label": label, "part": "train" if label == "yes" else "test"} for label in ["yes", "no"] * 10],
            ("review", "label", "part"),
            "the train rows (column 'part') must hold both labels",
        ),
    ],
)
def test_bad_labelled_files_get_one_clear_error(tmp_path: Path, rows: list, columns: tuple, message: str) -> None:
    path = _write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(BuildError) as failure:
        evaluate.load(str(path), *columns)
    assert message in str(failure.value)


def test_the_cli_reports_a_bad_file_before_loading_any_model(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "one_class.csv", [{"review": "x", "label": "a"}] * 12)
    result = run_cli("evaluate", "nnlm", "--input", str(path), "--text-column", "review", "--label-column", "label", "--build-dir", str(tmp_path / "b"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ") and "exactly two labels" in result.stderr
    assert not (tmp_path / "b").exists()  # nothing was built
