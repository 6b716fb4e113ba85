"""The real build step (TextEmbeddingModelGenerator) on local hub-format sources."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bqml_text_embeddings.build import BuildError, cache, catalog, ensure_built
from tests.conftest import ROOT, run_python, sources_for


def test_catalog_defaults_are_the_librarys_tf_hub_links() -> None:
    from bigquery_ml_utils.model_generator.text_embedding_generator import TextEmbeddingModelLinks as Links

    defaults = {role.key: role.default for spec in catalog.MODELS.values() for role in spec.sources}
    assert defaults == {
        "nnlm": Links.NNLM.value,
        "swivel": Links.SWIVEL.value,
        "bertPreprocess": Links.BERT_PREPROCESS.value,
        "bertEncoder": Links.BERT_ENCODER.value,
    }
    assert {name: spec.dims for name, spec in catalog.MODELS.items()} == {"nnlm": 50, "swivel": 20, "bert": 768}


@pytest.mark.parametrize("name, dims, target", [("nnlm", 50, "bigquery"), ("swivel", 20, "bigquery"), ("bert", 768, "vertex")])
def test_manifest_describes_the_files_on_disk(built: dict, hub_sources: dict, name: str, dims: int, target: str) -> None:
    model = built[name]
    manifest = model.manifest
    assert manifest["model"] == name and manifest["dims"] == dims and manifest["target"] == target
    assert manifest["sources"] == sources_for(name, hub_sources)
    assert manifest["tensorflow_version"] == "2.18.1"
    on_disk = sorted(p.relative_to(model.path).as_posix() for p in model.path.rglob("*") if p.is_file())
    assert [f["path"] for f in manifest["files"]] == on_disk
    assert "saved_model.pb" in on_disk and any(p.startswith("variables/") for p in on_disk)
    for item in manifest["files"]:
        data = (model.path / item["path"]).read_bytes()
        assert item["size"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["total_size"] == sum(f["size"] for f in manifest["files"])
    assert manifest["signature"] == {
        "name": "serving_default",
        "inputs": {"content": {"dtype": "string", "shape": [-1]}},
        "outputs": {"text_embedding": {"dtype": "float", "shape": [-1, dims]}},
    }
    assert model.output_name == "text_embedding"
    assert manifest["check"][target]["ok"]


def test_bert_check_fails_bigquery_for_tensorflow_text_ops_and_passes_vertex(built: dict) -> None:
    verdict = built["bert"].manifest["check"]
    assert not verdict["bigquery"]["ok"]
    (reason,) = verdict["bigquery"]["reasons"]
    assert "outside core TensorFlow" in reason and "WordpieceTokenizeWithOffsets" in reason
    assert verdict["vertex"]["ok"] and verdict["vertex"]["reasons"] == []
    assert "WordpieceTokenizeWithOffsets" in built["bert"].manifest["non_core_ops"]
    assert built["nnlm"].manifest["non_core_ops"] == []


@pytest.mark.parametrize("name", ["nnlm", "swivel"])
def test_built_model_embeds_exactly_like_its_source(built: dict, hub_sources: dict, name: str) -> None:
    import tensorflow as tf
    import tensorflow_hub as hub

    texts = ["A good movie!", "the worst plot", "", "unknownword"]
    source = hub.load(str(hub_sources[name]))(tf.constant(texts)).numpy()
    served = tf.saved_model.load(str(built[name].path)).signatures["serving_default"](content=tf.constant(texts))
    assert np.allclose(served["text_embedding"].numpy(), source, atol=1e-6)
    assert np.abs(source[0]).sum() > 0


def test_bert_wrapper_returns_the_encoders_pooled_output(built: dict, hub_sources: dict) -> None:
    import tensorflow as tf
    import tensorflow_hub as hub

    texts = tf.constant(["good movie", "bad acting"])
    expected = hub.load(str(hub_sources["bertEncoder"]))(hub.load(str(hub_sources["bertPreprocess"]))(texts))["pooled_output"]
    served = tf.saved_model.load(str(built["bert"].path)).signatures["serving_default"](content=texts)["text_embedding"]
    assert np.allclose(served.numpy(), expected.numpy(), atol=1e-5)


def test_warm_cache_returns_the_same_build_without_importing_tensorflow(built: dict, hub_sources: dict, shared_build_dir: Path) -> None:
    code = (
        "import json, sys\n"
        "from bqml_text_embeddings.build import ensure_built\n"
        "b = ensure_built(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])\n"
        "print(json.dumps({'path': str(b.path), 'tf': 'tensorflow' in sys.modules}))\n"
    )
    for name in ("nnlm", "bert"):
        result = run_python(code, name, json.dumps(sources_for(name, hub_sources)), str(shared_build_dir))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == {"path": str(built[name].path), "tf": False}


def test_key_follows_local_source_contents(hub_sources: dict, tmp_path: Path) -> None:
    import shutil

    spec = catalog.get("nnlm")
    copy = tmp_path / "nnlm_copy"
    shutil.copytree(hub_sources["nnlm"], copy)
    key = cache.cache_key(spec, {"nnlm": str(copy)})
    assert cache.cache_key(spec, {"nnlm": str(copy)}) == key
    assert cache.cache_key(spec, {"nnlm": str(hub_sources["nnlm"])}) == key  # same bytes elsewhere
    with open(copy / "variables" / "variables.index", "ab") as index:
        index.write(b"\0")
    assert cache.cache_key(spec, {"nnlm": str(copy)}) != key
    assert cache.cache_key(spec, {"nnlm": "https://tfhub.dev/google/nnlm-en-dim50/2"}) != key


def _entries(build_dir: Path) -> list[str]:
    """What the build dir holds besides the per-TensorFlow-version core op set."""
    from bqml_text_embeddings.build.check import CORE_OPS_DIR

    return sorted(p.name for p in build_dir.iterdir() if p.name != CORE_OPS_DIR) if build_dir.exists() else []


@pytest.mark.parametrize(
    "model, overrides, message",
    [
        ("nnlm", {"nnlm": "non_text"}, "source nnlm: {non_text} is not a text-embedding model: calling it on a batch of strings failed"),
        ("nnlm", {"nnlm": "swivel"}, "source nnlm: {swivel} is not a 50-dim text-embedding model"),
        ("nnlm", {"nnlm": "not_a_model"}, "source nnlm: {not_a_model} is not a SavedModel directory"),
        ("nnlm", {"nnlm": "/no/such/dir"}, "source nnlm: /no/such/dir does not exist"),
        ("nnlm", {"nnlm": "https://127.0.0.1:9/nnlm.tar.gz"}, "source nnlm: cannot load https://127.0.0.1:9/nnlm.tar.gz: "),
        ("nnlm", {"swivel": "swivel"}, "model 'nnlm' has no source swivel: its sources are nnlm"),
        ("bert", {"bertPreprocess": "nnlm", "bertEncoder": "bertEncoder"}, "source bertEncoder"),
        ("nnlm", {"nnlm": "text_ops_50"}, "nnlm cannot be imported into BigQuery: uses ops outside core TensorFlow"),
        ("word2vec", {}, "unknown model 'word2vec': choose one of nnlm, swivel, bert"),
    ],
)
def test_bad_sources_fail_with_one_clear_message_and_leave_nothing(
    hub_sources: dict, tmp_path: Path, model: str, overrides: dict, message: str
) -> None:
    resolved = {k: str(hub_sources.get(v, v)) for k, v in overrides.items()}
    expected = message.format(**{k: str(v) for k, v in hub_sources.items()})
    with pytest.raises((BuildError, catalog.UnknownModelError)) as failure:
        ensure_built(model, resolved, tmp_path / "build")
    assert expected in str(failure.value)
    assert "\n" not in str(failure.value)
    assert _entries(tmp_path / "build") == []


def test_size_over_bigquerys_limit_is_an_error(hub_sources: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bqml_text_embeddings.build import check

    monkeypatch.setattr(check, "BIGQUERY_MAX_BYTES", 1000)
    with pytest.raises(BuildError, match=r"nnlm cannot be imported into BigQuery: size [\d,]+ bytes exceeds BigQuery's 1,000-byte limit"):
        ensure_built("nnlm", sources_for("nnlm", hub_sources), tmp_path)
    assert _entries(tmp_path) == []


def test_interrupted_build_never_counts_as_built(hub_sources: dict, tmp_path: Path) -> None:
    """A build killed mid-write (SIGKILL, no clean-up) leaves no entry; the next run builds and tidies."""
    build_dir = tmp_path / "build"
    marker = tmp_path / "writing"
    code = (
        "import json, sys, time, pathlib\n"
        "from bqml_text_embeddings.build import builder, ensure_built\n"
        "real = builder.canonicalize\n"
        "def stall(model_dir):\n"
        "    real(model_dir)\n"
        "    pathlib.Path(sys.argv[3]).touch()\n"
        "    time.sleep(600)\n"
        "builder.canonicalize = stall\n"
        "ensure_built('nnlm', json.loads(sys.argv[1]), sys.argv[2])\n"
    )
    from tests.fakehub import fresh_env

    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(sources_for("nnlm", hub_sources)), str(build_dir), str(marker)],
        cwd=ROOT, env=fresh_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "build subprocess ended early"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    (leftover,) = _entries(build_dir)
    assert leftover.startswith(cache.TMP_PREFIX)
    spec = catalog.get("nnlm")
    handles = sources_for("nnlm", hub_sources)
    assert cache.load(cache.entry_dir(build_dir, spec, cache.cache_key(spec, handles))) is None

    rebuilt = ensure_built("nnlm", handles, build_dir)
    assert _entries(build_dir) == [rebuilt.path.parent.name]


def test_tampered_entry_is_rebuilt(hub_sources: dict, tmp_path: Path) -> None:
    first = ensure_built("swivel", sources_for("swivel", hub_sources), tmp_path)
    (first.path / "saved_model.pb").write_bytes(b"truncated")
    second = ensure_built("swivel", sources_for("swivel", hub_sources), tmp_path)
    assert second.path == first.path
    assert (second.path / "saved_model.pb").stat().st_size == next(
        f["size"] for f in second.files if f["path"] == "saved_model.pb"
    )


_BUILD_AND_HASH = (
    "import json, sys\n"
    "from bqml_text_embeddings.build import ensure_built\n"
    "b = ensure_built(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])\n"
    "print(json.dumps({'digest': b.digest, 'files': b.files}))\n"
)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["nnlm", "bert"])
def test_two_builds_from_scratch_in_fresh_processes_are_byte_identical(hub_sources: dict, tmp_path: Path, name: str) -> None:
    results = []
    for attempt in ("a", "b"):
        done = run_python(_BUILD_AND_HASH, name, json.dumps(sources_for(name, hub_sources)), str(tmp_path / attempt))
        assert done.returncode == 0, done.stderr
        results.append(json.loads(done.stdout))
    assert results[0]["files"] == results[1]["files"]
    assert results[0]["digest"] == results[1]["digest"]
    assert {f["path"] for f in results[0]["files"]} >= {"saved_model.pb", "fingerprint.pb", "variables/variables.index"}


def test_remote_handles_are_taken_as_given_and_keyed_by_name() -> None:
    from bqml_text_embeddings.build import sources

    spec = catalog.get("bert")
    handles = sources.resolve(spec, {"bertEncoder": "gs://mirror/bert_en_cased_L-12_H-768_A-12/4"})
    assert handles == {
        "bertPreprocess": "https://tfhub.dev/tensorflow/bert_en_cased_preprocess/3",
        "bertEncoder": "gs://mirror/bert_en_cased_L-12_H-768_A-12/4",
    }
    assert cache.cache_key(spec, handles) != cache.cache_key(spec, sources.resolve(spec, None))
    assert cache.cache_key(spec, handles) == cache.cache_key(spec, dict(handles))


@pytest.mark.parametrize("model", ["nnlm", "bert"])
def test_each_source_is_loaded_once_for_probe_and_generator_alike(
    hub_sources: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    import tensorflow_hub as hub

    loads: list[str] = []
    real = hub.load
    monkeypatch.setattr(hub, "load", lambda handle, *a, **k: loads.append(handle) or real(handle, *a, **k))
    handles = sources_for(model, hub_sources)
    built = ensure_built(model, handles, tmp_path)
    assert loads == list(handles.values())  # in the generator's order: preprocess, then encoder
    assert built.manifest["check"][built.manifest["target"]]["ok"]
