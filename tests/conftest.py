"""Shared fixtures: small TF-Hub-format sources, built once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.googlesql import Engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

from tests import one_status_proto  # noqa: E402 - after sys.path holds the repository

one_status_proto.install()


@pytest.fixture(scope="session")
def hub_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Local stand-ins for every TF Hub handle the catalogue names, plus bad ones."""
    from tests import fakehub

    root = tmp_path_factory.mktemp("hub")
    words = fakehub.demo_words(60)
    preprocess, encoder = fakehub.save_bert_modules(root, words)
    empty = root / "not_a_model"
    empty.mkdir()
    (empty / "README").write_text("no saved_model.pb here\n")
    return {
        "nnlm": fakehub.save_word_embedding_module(root / "nnlm", words, 50, seed=1),
        "swivel": fakehub.save_word_embedding_module(root / "swivel", words, 20, seed=2),
        "bertPreprocess": preprocess,
        "bertEncoder": encoder,
        "non_text": fakehub.save_non_text_module(root / "non_text"),
        "not_a_model": empty,
        "text_ops_50": fakehub.save_word_embedding_module(root / "text_ops_50", words, 50, text_ops=True),
    }


def sources_for(model: str, hub: dict[str, Path]) -> dict[str, str]:
    from bqml_text_embeddings.build import catalog

    return {key: str(hub[key]) for key in catalog.get(model).source_keys()}


@pytest.fixture(scope="session")
def shared_build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build")


@pytest.fixture(scope="session")
def built(hub_sources: dict[str, Path], shared_build_dir: Path) -> dict:
    """All three models built once into a shared cache, for tests that only read.

    One after another (jobs=1), each in a process of its own: the reference
    that concurrent builds are held to.
    """
    from bqml_text_embeddings.build import ensure_all_built

    return ensure_all_built({name: sources_for(name, hub_sources) for name in ("nnlm", "swivel", "bert")}, shared_build_dir, jobs=1)


@pytest.fixture(scope="session")
def round_robin_sources(hub_sources: dict[str, Path]) -> dict[str, str]:
    """BERT's sources with a preprocess that trims with tf_text.RoundRobinTrimmer (TFText>RoundRobinTrim)."""
    from tests import fakehub

    path = fakehub.save_bert_preprocess(hub_sources["bertPreprocess"].parent / "bert_preprocess_round_robin", fakehub.demo_words(60), round_robin=True)
    return {**sources_for("bert", hub_sources), "bertPreprocess": str(path)}


@pytest.fixture(scope="session")
def round_robin_bert(round_robin_sources: dict[str, str], shared_build_dir: Path):
    """BERT built (in a process of its own, into the shared cache) from the round-robin preprocess."""
    from bqml_text_embeddings.build import ensure_all_built

    return ensure_all_built({"bert": round_robin_sources}, shared_build_dir, jobs=1)["bert"]


PROJECT = "my-proj-123"


@pytest.fixture(scope="session")
def base_config(built: dict, hub_sources: dict, shared_build_dir: Path) -> dict:
    """Stack config for the program tests: local sources, the session's warm build cache."""
    sources = {key: str(hub_sources[key]) for key in ("nnlm", "swivel", "bertPreprocess", "bertEncoder")}
    return {"gcp:project": PROJECT, "modelSources": sources, "buildDir": str(shared_build_dir)}


@pytest.fixture(scope="session")
def runs(base_config: dict) -> dict:
    """The program under mocks in the configurations the program tests compare."""
    from tests.pulumi_harness import run_program

    return {
        "default": run_program(base_config),
        "all": run_program({**base_config, "models": ["nnlm", "swivel", "bert"]}),
        "bert": run_program({**base_config, "models": ["bert"]}),
        "no_samples": run_program({**base_config, "samplePredictions": {"rows": 0}}),
        "four": run_program({**base_config, "models": ["nnlm", "swivel", "bert", "textembedding"]}),
        "managed": run_program({**base_config, "models": ["textembedding"], "textEmbedding": {"endpoint": "gemini-embedding-001"}}),
        "no_evaluation": run_program({**base_config, "evaluation": {"rows": 0}}),
    }


def run_python(code: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Runs code in a fresh interpreter at the project root."""
    from tests.fakehub import fresh_env

    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=fresh_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli(*args: str, stdin: str | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    from tests.fakehub import fresh_env

    return subprocess.run(
        [sys.executable, "-m", "bqml_text_embeddings.build", *args],
        cwd=ROOT,
        env=fresh_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def googlesql() -> Iterator[Engine]:
    """GoogleSQL's reference engine (ZetaSQL's local service), one process for the session."""
    from tests.googlesql import Engine

    with Engine.start() as engine:
        yield engine
