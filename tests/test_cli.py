"""python -m bqml_text_embeddings.build: list, build, check, predict, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bqml_text_embeddings.build.check import CORE_OPS_DIR
from tests.conftest import run_cli


def _source_args(hub: dict, *keys: str) -> list[str]:
    return [arg for key in keys for arg in ("--source", f"{key}={hub[key]}")]


def _error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert lines, "no error printed"
    return lines[-1]


@pytest.mark.parametrize("command", [[], ["list"], ["build"], ["check"], ["predict"], ["evaluate"]])
def test_help_for_every_command(command: list[str]) -> None:
    result = run_cli(*command, "--help")
    assert result.returncode == 0
    assert "usage: python -m bqml_text_embeddings.build" in result.stdout


def test_list_shows_models_sources_and_cache_state(built: dict, hub_sources: dict, shared_build_dir: Path) -> None:
    result = run_cli("list", "--build-dir", str(shared_build_dir), *_source_args(hub_sources, "nnlm"))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"nnlm", "swivel", "bert"}
    assert rows["nnlm"].split()[1:4] == ["50", "bigquery", "yes"]
    assert rows["swivel"].split()[1:4] == ["20", "bigquery", "no"]  # default TF Hub source: not built
    assert "https://tfhub.dev/google/tf2-preview/gnews-swivel-20dim/1" in rows["swivel"]
    assert rows["bert"].split()[1:3] == ["768", "vertex"]


def test_build_prints_each_models_directory(built: dict, hub_sources: dict, shared_build_dir: Path) -> None:
    result = run_cli("build", "nnlm", "swivel", "--build-dir", str(shared_build_dir), *_source_args(hub_sources, "nnlm", "swivel"))
    assert result.returncode == 0, result.stderr
    assert f"nnlm: {built['nnlm'].path} (" in result.stdout
    assert f"swivel: {built['swivel'].path} (" in result.stdout


def test_check_gives_a_verdict_per_target(built: dict, hub_sources: dict, shared_build_dir: Path) -> None:
    bert = run_cli("check", "bert", "--build-dir", str(shared_build_dir), *_source_args(hub_sources, "bertPreprocess", "bertEncoder"))
    assert bert.returncode == 0, bert.stderr  # its own target, Vertex AI, can serve it
    assert "bigquery: FAIL" in bert.stdout and "WordpieceTokenizeWithOffsets" in bert.stdout
    assert "vertex (this model's target): ok" in bert.stdout

    forced = run_cli("check", str(built["bert"].path), "--serve-on", "bigquery")
    assert forced.returncode == 1
    assert "bigquery (this model's target): FAIL" in forced.stdout

    nnlm = run_cli("check", str(built["nnlm"].path))
    assert nnlm.returncode == 0, nnlm.stderr
    assert "bigquery (this model's target): ok" in nnlm.stdout


def test_check_judges_bert_by_the_runtime_that_will_serve_it(round_robin_bert, round_robin_sources: dict, shared_build_dir: Path) -> None:
    sources = [arg for key in ("bertPreprocess", "bertEncoder") for arg in ("--source", f"{key}={round_robin_sources[key]}")]
    default = run_cli("check", "bert", "--build-dir", str(shared_build_dir), *sources)
    assert default.returncode == 0, default.stdout + default.stderr  # TensorFlow Serving 2.20 links tensorflow-text 2.20
    assert "vertex runtime tf-serving-2.20 (the chosen runtime): ok" in default.stdout

    old = run_cli("check", "bert", "--runtime", "prebuilt-tf2-cpu.2-15", "--build-dir", str(shared_build_dir), *sources)
    assert old.returncode == 1
    assert "vertex runtime prebuilt-tf2-cpu.2-15 (the chosen runtime): FAIL\n  - op type(s) not registered there: TFText>RoundRobinTrim" in old.stdout
    assert "Fix: set --runtime to tf-serving-2.20, which has them" in old.stdout

    # The same verdict from the SavedModel directory alone (read from its graph), and from `build`.
    direct = run_cli("check", str(round_robin_bert.path), "--runtime", "prebuilt-tf2-cpu.2-15")
    assert direct.returncode == 1 and "TFText>RoundRobinTrim" in direct.stdout
    build = run_cli("build", "bert", "--runtime", "prebuilt-tf2-cpu.2-15", "--build-dir", str(shared_build_dir), *sources)
    assert build.returncode == 2 and "error: bert cannot be served by runtime prebuilt-tf2-cpu.2-15" in build.stderr


def test_check_of_a_model_that_fails_bigquery_exits_non_zero(hub_sources: dict, tmp_path: Path) -> None:
    result = run_cli("check", "nnlm", "--build-dir", str(tmp_path), "--source", f"nnlm={hub_sources['text_ops_50']}")
    assert result.returncode == 1
    assert "bigquery (this model's target): FAIL" in result.stdout
    assert "outside core TensorFlow" in result.stdout
    assert [p.name for p in tmp_path.iterdir()] == [CORE_OPS_DIR]  # no model entry; the op set is kept


def _jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_predict_texts_as_arguments_match_the_model(built: dict) -> None:
    import tensorflow as tf

    texts = ["a good movie", "bad acting, boring plot"]
    result = run_cli("predict", str(built["nnlm"].path), *texts)
    assert result.returncode == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert [r["content"] for r in rows] == texts
    assert all(set(r) == {"content", "text_embedding"} and len(r["text_embedding"]) == 50 for r in rows)
    expected = tf.saved_model.load(str(built["nnlm"].path)).signatures["serving_default"](content=tf.constant(texts))
    assert np.allclose([r["text_embedding"] for r in rows], expected["text_embedding"].numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "name, body, column",
    [
        ("in.txt", "good movie\n\nbad movie\nthe plot\n", None),
        ("in.csv", 'id,review\n1,good movie\n2,"bad movie"\n3,the plot\n', "review"),
        ("in.jsonl", '{"content": "good movie"}\n{"content": "bad movie"}\n\n{"content": "the plot"}\n', None),
    ],
)
def test_predict_reads_text_csv_and_jsonl_files(built: dict, tmp_path: Path, name: str, body: str, column: str | None) -> None:
    source = tmp_path / name
    source.write_text(body)
    out = tmp_path / "out.jsonl"
    args = ["predict", str(built["swivel"].path), "--input", str(source), "--output", str(out)]
    result = run_cli(*args, *(["--column", column] if column else []))
    assert result.returncode == 0, result.stderr
    rows = _jsonl(out.read_text())
    assert [r["content"] for r in rows] == ["good movie", "bad movie", "the plot"]
    assert all(len(r["text_embedding"]) == 20 for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "out.jsonl"])


def test_predict_reads_stdin_in_batches_with_a_progress_bar(built: dict) -> None:
    texts = [f"movie number {i}" for i in range(10)]
    result = run_cli("predict", str(built["bert"].path), "--batch-size", "3", stdin="\n".join(texts))
    assert result.returncode == 0, result.stderr
    rows = _jsonl(result.stdout)
    assert [r["content"] for r in rows] == texts
    assert all(len(r["text_embedding"]) == 768 for r in rows)
    assert "10/10" in result.stderr  # tqdm's closing count


def test_predict_builds_a_named_model_on_demand(hub_sources: dict, tmp_path: Path) -> None:
    result = run_cli("predict", "swivel", "great film", "--build-dir", str(tmp_path), *_source_args(hub_sources, "swivel"))
    assert result.returncode == 0, result.stderr
    (row,) = _jsonl(result.stdout)
    assert row["content"] == "great film" and len(row["text_embedding"]) == 20


@pytest.mark.parametrize(
    "args, message",
    [
        (["build", "word2vec"], "error: unknown model 'word2vec': choose one of nnlm, swivel, bert"),
        (["build", "nnlm", "--source", "nnlm"], "error: --source 'nnlm': expected KEY=HANDLE"),
        (["build", "nnlm", "--source", "glove=/x"], "error: --source glove: unknown source; keys are nnlm, swivel, bertPreprocess, bertEncoder"),
        (["build", "nnlm", "--source", "nnlm=/no/such/model"], "error: source nnlm: /no/such/model does not exist"),
        (["predict", "nnlm", "--input", "/no/such/file.txt"], "error: cannot read input file /no/such/file.txt: No such file or directory"),
        (["predict", "nnlm", "x", "--input", "/etc/hostname"], "error: give texts as arguments or --input, not both"),
        (["predict", "/tmp", "hello"], "error: /tmp is neither a model (nnlm, swivel, bert) nor a SavedModel directory"),
        (["check", "/tmp"], "error: /tmp is neither a model (nnlm, swivel, bert) nor a SavedModel directory"),
    ],
)
def test_bad_input_gets_one_clear_line_and_a_non_zero_exit(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli(*args, "--build-dir", str(tmp_path / "build"))
    assert result.returncode == 2
    assert _error_line(result) == message or _error_line(result).startswith(message)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "build").exists() or list((tmp_path / "build").iterdir()) == []


def test_predict_with_a_bad_csv_column_writes_nothing(built: dict, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id,review\n1,good\n")
    out = tmp_path / "out.jsonl"
    result = run_cli("predict", str(built["nnlm"].path), "--input", str(source), "--output", str(out))
    assert result.returncode == 2
    assert _error_line(result) == f"error: {source}: no column 'content' in the CSV header (choose one with --column)"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_build_of_several_models_runs_side_by_side_and_writes_the_reference_bytes(built: dict, hub_sources: dict, tmp_path: Path) -> None:
    sources = [f"--source={key}={hub_sources[key]}" for key in ("nnlm", "swivel")]
    result = run_cli("build", "nnlm", "swivel", "--jobs", "2", "--build-dir", str(tmp_path), *sources)
    assert result.returncode == 0, result.stderr
    digests = {line.split(": ", 1)[0]: line.rsplit("digest ", 1)[1].rstrip(")") for line in result.stdout.splitlines()}
    assert digests == {m: built[m].digest[:12] for m in ("nnlm", "swivel")}
    assert {"building nnlm", "building swivel"} <= set(result.stderr.splitlines())


def test_build_jobs_must_be_positive() -> None:
    result = run_cli("build", "nnlm", "--jobs", "0")
    assert result.returncode == 2
    assert "--jobs: expected a whole number of at least 1, got '0'" in result.stderr
