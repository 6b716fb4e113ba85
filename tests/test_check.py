"""The per-target verdict on hand-made inspections, and the core op set it judges by."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bqml_text_embeddings.build import check, runtimes
from tests.conftest import ROOT
from tests.fakehub import fresh_env

DIMS = 50
GOOD_SIGNATURE = {
    "inputs": {"content": {"dtype": "string", "shape": [-1], "sparse_or_ragged": False}},
    "outputs": {"text_embedding": {"dtype": "float", "shape": [-1, DIMS], "sparse_or_ragged": False}},
}
CORE = frozenset({"MatMul", "StringSplitV2", "LookupTableFindV2"})


def _verdicts(signature=GOOD_SIGNATURE, ops=("MatMul",), producer=1994, size=1000):
    return check.verdicts(check.Inspection(signature, frozenset(ops), producer), DIMS, size, CORE)


def test_a_core_ops_embedding_model_suits_both_targets() -> None:
    result = _verdicts()
    assert result == {
        "bigquery": {"ok": True, "reasons": [], "notes": []},
        "vertex": {"ok": True, "reasons": [], "notes": []},
    }


def test_bigquery_limits_each_give_a_reason() -> None:
    result = _verdicts(ops=("MatMul", "WordpieceTokenizeWithOffsets"), producer=12, size=check.BIGQUERY_MAX_BYTES + 1)
    reasons = result["bigquery"]["reasons"]
    assert not result["bigquery"]["ok"] and len(reasons) == 3
    assert reasons[0] == "size 450,000,001 bytes exceeds BigQuery's 450,000,000-byte limit for imported TensorFlow models"
    assert reasons[1] == "GraphDef version 12 is below the 20 BigQuery requires"
    assert reasons[2] == "uses ops outside core TensorFlow, which BigQuery cannot run: WordpieceTokenizeWithOffsets"
    assert result["vertex"]["ok"] and "WordpieceTokenizeWithOffsets" in result["vertex"]["notes"][0]


def test_size_at_the_limit_passes() -> None:
    assert _verdicts(size=check.BIGQUERY_MAX_BYTES)["bigquery"]["ok"]


def test_signature_problems_fail_both_targets() -> None:
    cases = {
        None: "no 'serving_default' signature",
        "two_inputs": "inputs are ['content', 'extra'], expected exactly ['content']",
        "int_input": "input 'content' is int64 [None], expected dense string [None]",
        "wrong_dims": "output 'text_embedding' is float [None, 20], expected dense float [None, 50]",
        "ragged_out": "output 'text_embedding' is ragged/sparse float [None, 50], expected dense float [None, 50]",
        "two_outputs": "outputs are ['a', 'b'], expected exactly one",
    }
    signatures = {
        None: None,
        "two_inputs": {**GOOD_SIGNATURE, "inputs": {**GOOD_SIGNATURE["inputs"], "extra": GOOD_SIGNATURE["inputs"]["content"]}},
        "int_input": {**GOOD_SIGNATURE, "inputs": {"content": {"dtype": "int64", "shape": [-1], "sparse_or_ragged": False}}},
        "wrong_dims": {**GOOD_SIGNATURE, "outputs": {"text_embedding": {"dtype": "float", "shape": [-1, 20], "sparse_or_ragged": False}}},
        "ragged_out": {**GOOD_SIGNATURE, "outputs": {"text_embedding": {"dtype": "float", "shape": [-1, 50], "sparse_or_ragged": True}}},
        "two_outputs": {**GOOD_SIGNATURE, "outputs": {"a": GOOD_SIGNATURE["outputs"]["text_embedding"], "b": GOOD_SIGNATURE["outputs"]["text_embedding"]}},
    }
    for case, message in cases.items():
        result = _verdicts(signature=signatures[case])
        for target in ("bigquery", "vertex"):
            assert not result[target]["ok"], case
            assert message in result[target]["reasons"], (case, result[target]["reasons"])


def test_core_ops_are_what_bare_tensorflow_registers() -> None:
    core = check.core_ops()
    assert {"MatMul", "StringSplitV2", "LookupTableFindV2", "StatefulPartitionedCall"} <= core
    assert not {"WordpieceTokenizeWithOffsets", "RegexSplitWithOffsets", "WhitespaceTokenizeWithOffsetsV2"} & core


_FIRST_IMPORT = (
    "import json, sys\n"
    "from bqml_text_embeddings.build import check\n"
    "def forbidden():\n"
    "    raise AssertionError('started a second interpreter')\n"
    "check._ops_of_fresh_interpreter = forbidden\n"
    "ops = check.core_ops(sys.argv[1])\n"
    "print(json.dumps(sorted(ops)))\n"
)


def test_a_process_that_has_not_loaded_tensorflow_reads_core_ops_itself_and_keeps_them(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_IMPORT, str(tmp_path)], cwd=ROOT, env=fresh_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    own = frozenset(json.loads(done.stdout.strip().splitlines()[-1]))
    assert own == check._ops_of_fresh_interpreter()
    (kept,) = (tmp_path / check.CORE_OPS_DIR).iterdir()
    assert frozenset(json.loads(kept.read_text())) == own


def test_once_tensorflow_text_is_loaded_core_ops_come_from_the_kept_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tensorflow_text  # noqa: F401 - the ops a process-local registry would wrongly count

    compute = check.core_ops.__wrapped__  # past the per-process memo
    interpreters = []
    real = check._ops_of_fresh_interpreter
    monkeypatch.setattr(check, "_ops_of_fresh_interpreter", lambda: interpreters.append(1) or real())

    first = compute(tmp_path)
    assert interpreters == [1]
    assert "WordpieceTokenizeWithOffsets" not in first and "MatMul" in first
    assert compute(tmp_path) == first and interpreters == [1]  # kept: no second interpreter

    (kept,) = (tmp_path / check.CORE_OPS_DIR).iterdir()
    kept.write_text("not json")
    assert compute(tmp_path) == first and interpreters == [1, 1]  # a damaged file is recomputed


# --- the runtime that will serve BERT: its op registry ---------------------------------------


def test_each_runtime_registry_holds_its_tensorflow_and_the_text_ops_it_links() -> None:
    for name, runtime in runtimes.RUNTIMES.items():
        data = json.loads(runtimes.registry_path(name).read_text())
        assert (data["runtime"], data["tensorflow"], data["tensorflow_text"]) == (name, runtime.tensorflow, runtime.tensorflow_text)
        ops = runtimes.registry(name)
        assert {"MatMul", "StatefulPartitionedCall", "WordpieceTokenizeWithOffsets"} <= set(ops)
        assert {"T", "transpose_a", "transpose_b"} <= ops["MatMul"]
    # TensorFlow Serving 2.15-2.19 link tensorflow-text 2.12.1, which predates the op of RoundRobinTrimmer.
    assert "TFText>RoundRobinTrim" in runtimes.registry("tf-serving-2.20")
    assert "TFText>RoundRobinTrim" not in runtimes.registry("prebuilt-tf2-cpu.2-15")


def test_the_registries_are_written_sorted_with_stable_bytes() -> None:
    from scripts.op_registry import render

    for name in runtimes.RUNTIMES:
        path = runtimes.registry_path(name)
        assert render(json.loads(path.read_text())) == path.read_text(), name


def test_a_runtime_lacking_an_op_or_an_attribute_names_them() -> None:
    needed = {"MatMul": {"T", "transpose_a"}, "TFText>RoundRobinTrim": {"T", "Tsplits"}, "VarHandleOp": {"dtype", "shape", "new_attr"}}
    found = runtimes.problems(needed, "prebuilt-tf2-cpu.2-15")
    assert found == [
        "op type(s) not registered there: TFText>RoundRobinTrim",
        "attribute(s) its ops do not declare there: VarHandleOp (new_attr)",
    ]
    verdicts = runtimes.verdicts({"MatMul": {"T"}})
    assert verdicts == {name: {"ok": True, "reasons": []} for name in runtimes.RUNTIMES}


def test_the_refusal_names_the_ops_the_runtime_and_the_fix() -> None:
    verdicts = runtimes.verdicts({"TFText>RoundRobinTrim": {"T", "Tsplits"}})
    assert runtimes.refusal("bert", verdicts, "tf-serving-2.20", "bert.runtime") is None
    message = runtimes.refusal("bert", verdicts, "prebuilt-tf2-cpu.2-15", "bqml-text-embeddings:bert.runtime")
    assert message == (
        "bert cannot be served by runtime prebuilt-tf2-cpu.2-15 (Vertex AI prebuilt prediction image tf2-cpu.2-15 "
        "(TensorFlow Serving 2.15): TensorFlow 2.15.1 ops + tensorflow-text 2.12.1 ops): "
        "op type(s) not registered there: TFText>RoundRobinTrim. Fix: set bqml-text-embeddings:bert.runtime to "
        "tf-serving-2.20, which has them, or build bert from sources that use only ops that runtime registers "
        "(for BERT, a modelSources.bertPreprocess made with an older tensorflow-text)"
    )


def test_bert_is_judged_by_every_runtime_at_build_time(built: dict, round_robin_bert) -> None:
    """Both ways: a preprocess with tf_text.RoundRobinTrimmer only where tensorflow-text 2.16+ is linked."""
    assert built["bert"].manifest["runtimes"] == {name: {"ok": True, "reasons": []} for name in runtimes.RUNTIMES}
    assert round_robin_bert.manifest["runtimes"] == {
        "tf-serving-2.20": {"ok": True, "reasons": []},
        "prebuilt-tf2-cpu.2-15": {"ok": False, "reasons": ["op type(s) not registered there: TFText>RoundRobinTrim"]},
    }
    assert built["nnlm"].manifest["runtimes"] == {}  # BigQuery serves it: no Vertex AI runtime judges it
