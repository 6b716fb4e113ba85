"""Concurrent builds: forks of one build server, the same bytes as one after another, failures kept apart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bqml_text_embeddings.build import BuildError, cache, catalog, ensure_all_built, ensure_built, sources
from bqml_text_embeddings.build.check import CORE_OPS_DIR
from bqml_text_embeddings.build.parallel import default_jobs
from tests.conftest import ROOT, sources_for
from tests.fakehub import fresh_env

ALL = ("nnlm", "swivel", "bert")


def _server(marks: Path, setup: str = "") -> tuple[str, ...]:
    """The build server, its builds spied on: each forked build leaves a mark (its parent's pid); swivel's is killed."""
    script = (
        "import os, signal, sys, threading, time\n"
        "from bqml_text_embeddings.build import worker\n"
        "real = worker.build_one\n"
        "def build_one(request):\n"
        f"    with open(os.path.join({str(marks)!r}, request['model']), 'w') as mark:\n"
        "        mark.write(str(os.getppid()))\n"
        "    if request['model'] == 'swivel':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer ends a process\n"
        "    return real(request)\n"
        "worker.build_one = build_one\n"
        f"{setup}\n"
        "worker.main(sys.argv[1:])\n"
    )
    marks.mkdir()
    return (sys.executable, "-c", script)


def _models(build_dir: Path) -> list[str]:
    return sorted(p.name for p in build_dir.iterdir() if p.name != CORE_OPS_DIR)


def test_concurrent_builds_write_the_bytes_a_sequential_build_writes(built: dict, hub_sources: dict, tmp_path: Path) -> None:
    events: list[str] = []
    together = ensure_all_built({m: sources_for(m, hub_sources) for m in ALL}, tmp_path, jobs=2, report=events.append)

    assert list(together) == list(ALL)
    for model in ALL:
        assert together[model].digest == built[model].digest, model  # `built`: one after another (jobs=1)
        assert together[model].files == built[model].files
        assert together[model].path.parent.name == built[model].path.parent.name  # the same cache key
    sizes = {m: sum(sources.local_size(h) for h in sources_for(m, hub_sources).values()) for m in ALL}
    smallest = min(sizes, key=sizes.get)
    # Two at once on 2 jobs, the two biggest first; the smallest waits for a free slot.
    assert set(events[:2]) == {f"building {m}" for m in ALL if m != smallest}, events
    assert events[2].startswith("built ") and f"building {smallest}" in events[3:], events
    assert sorted(e.split()[1] for e in events if e.startswith("built ")) == sorted(ALL)
    assert _models(tmp_path) == sorted(b.path.parent.name for b in together.values())  # no tmp dir left


def test_a_failed_build_names_its_model_and_the_others_stay_cached(built: dict, hub_sources: dict, tmp_path: Path) -> None:
    bad_swivel = {"swivel": str(hub_sources["non_text"])}
    with pytest.raises(BuildError) as alone:
        ensure_built("swivel", bad_swivel, tmp_path / "alone")

    requested = {"nnlm": sources_for("nnlm", hub_sources), "swivel": bad_swivel, "bert": sources_for("bert", hub_sources)}
    with pytest.raises(BuildError) as together:
        ensure_all_built(requested, tmp_path / "together", jobs=2)

    assert str(together.value) == f"{alone.value} (nnlm, bert built and cached)"
    for model in ("nnlm", "bert"):
        spec = catalog.get(model)
        handles = sources.resolve(spec, requested[model])
        kept = cache.load(cache.entry_dir(tmp_path / "together", spec, cache.cache_key(spec, handles)))
        assert kept is not None and kept.digest == built[model].digest
    assert [name.split("-")[0] for name in _models(tmp_path / "together")] == ["bert", "nnlm"]


def test_several_failures_are_named_in_one_error(hub_sources: dict, tmp_path: Path) -> None:
    requested = {"nnlm": {"nnlm": str(hub_sources["non_text"])}, "swivel": {"swivel": str(hub_sources["nnlm"])}}
    with pytest.raises(BuildError) as failure:
        ensure_all_built(requested, tmp_path, jobs=2)
    message = str(failure.value)
    assert message.startswith("2 models failed to build: ")
    assert "[nnlm] source nnlm: " in message and "is not a text-embedding model" in message
    assert "[swivel] source swivel: " in message and "is not a 20-dim text-embedding model" in message
    assert "\n" not in message
    assert _models(tmp_path) == []


def test_builds_are_forks_of_one_server_and_a_killed_one_is_named(hub_sources: dict, tmp_path: Path) -> None:
    requested = {m: sources_for(m, hub_sources) for m in ("nnlm", "swivel")}
    with pytest.raises(BuildError, match=r"^building swivel was stopped by SIGKILL \(out of memory\? build fewer at once: config buildJobs, CLI --jobs\) \(nnlm built and cached\)$"):
        ensure_all_built(requested, tmp_path / "build", jobs=2, worker=_server(tmp_path / "marks"))
    assert [name.split("-")[0] for name in _models(tmp_path / "build")] == ["nnlm"]
    parents = {mark.name: mark.read_text() for mark in (tmp_path / "marks").iterdir()}
    assert set(parents) == {"nnlm", "swivel"} and len(set(parents.values())) == 1, parents


def test_a_server_with_threads_builds_each_model_in_a_fresh_interpreter(built: dict, hub_sources: dict, tmp_path: Path) -> None:
    # Forking a process with threads is unsafe, so the server execs instead: the spy (and its kill) never runs.
    thread = "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()"
    found = ensure_all_built(
        {m: sources_for(m, hub_sources) for m in ("swivel", "bert")}, tmp_path / "build", worker=_server(tmp_path / "marks", thread)
    )
    assert {m: b.digest for m, b in found.items()} == {m: built[m].digest for m in ("swivel", "bert")}  # BERT's function library most of all
    assert list((tmp_path / "marks").iterdir()) == []


def test_what_a_library_prints_in_the_server_does_not_garble_its_events(built: dict, hub_sources: dict, tmp_path: Path) -> None:
    chatty = (
        "real_preload = worker.preload\n"
        "def preload(build_dir):\n"
        "    print('a library says hello', flush=True)\n"
        "    real_preload(build_dir)\n"
        "worker.preload = preload\n"
    )
    found = ensure_all_built({"nnlm": sources_for("nnlm", hub_sources)}, tmp_path / "build", worker=_server(tmp_path / "marks", chatty))
    assert found["nnlm"].digest == built["nnlm"].digest


def test_a_server_that_cannot_start_names_every_model(hub_sources: dict, tmp_path: Path) -> None:
    broken = (
        "def preload(build_dir):\n"
        "    raise ImportError('libtensorflow_framework.so.2: cannot open shared object file')\n"
        "worker.preload = preload\n"
    )
    requested = {m: sources_for(m, hub_sources) for m in ("nnlm", "swivel")}
    with pytest.raises(BuildError) as failure:
        ensure_all_built(requested, tmp_path / "build", jobs=1, worker=_server(tmp_path / "marks", broken))
    cause = "crashed (exit 1): ImportError: libtensorflow_framework.so.2: cannot open shared object file"
    assert str(failure.value) == f"2 models failed to build: [nnlm] building nnlm {cause}; [swivel] building swivel {cause}"


def test_a_warm_cache_starts_no_worker(built: dict, hub_sources: dict, shared_build_dir: Path) -> None:
    events: list[str] = []
    found = ensure_all_built(
        {m: sources_for(m, hub_sources) for m in ALL}, shared_build_dir, report=events.append, worker=("false",)
    )
    assert {m: b.path for m, b in found.items()} == {m: built[m].path for m in ALL}
    assert events == []


def test_a_bad_source_fails_before_any_build_starts(hub_sources: dict, tmp_path: Path) -> None:
    started = tmp_path / "started"
    spy = (sys.executable, "-c", f"open({str(started)!r}, 'w').close()")
    requested = {"swivel": sources_for("swivel", hub_sources), "nnlm": {"nnlm": str(hub_sources["not_a_model"])}}
    with pytest.raises(BuildError, match=r"source nnlm: .* is not a SavedModel directory"):
        ensure_all_built(requested, tmp_path / "build", worker=spy)
    assert not started.exists() and not (tmp_path / "build").exists()


def test_an_interrupt_stops_the_server_and_its_builds(hub_sources: dict, tmp_path: Path) -> None:
    """Ctrl-C on `pulumi up` reaches the caller only (the server has its own session): it must stop them."""
    marks = tmp_path / "marks"
    marks.mkdir()
    server = (
        "import os, sys, time\n"
        "from bqml_text_embeddings.build import worker\n"
        "def build_one(request):\n"
        f"    with open(os.path.join({str(marks)!r}, 'pids'), 'w') as mark:\n"
        "        mark.write(f'{os.getppid()} {os.getpid()}')\n"
        "    time.sleep(600)\n"
        "worker.build_one = build_one\n"
        "worker.main(sys.argv[1:])\n"
    )
    caller = (
        "import json, sys\n"
        "from bqml_text_embeddings.build import ensure_all_built\n"
        "ensure_all_built(json.loads(sys.argv[1]), sys.argv[2], worker=(sys.executable, '-c', sys.argv[3]))\n"
    )
    requested = json.dumps({"swivel": sources_for("swivel", hub_sources)})
    proc = subprocess.Popen(
        [sys.executable, "-c", caller, requested, str(tmp_path / "build"), server],
        cwd=ROOT, env=fresh_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not (marks / "pids").exists() or not (marks / "pids").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, "the build never started"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    pids = [int(pid) for pid in (marks / "pids").read_text().split()]  # the server, then its build
    try:
        assert "KeyboardInterrupt" in err
        for pid in pids:
            deadline = time.monotonic() + 10
            while _alive(pid):
                assert time.monotonic() < deadline, f"process {pid} outlived the interrupt"
                time.sleep(0.1)
    finally:  # a failing run leaves no sleeping build behind
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return status != "Z"  # a zombie has stopped; only its parent's wait remains


def test_one_build_per_usable_core_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 3}, raising=False)
    assert default_jobs() == 2  # the cores this process may use, not the machine's
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS has no affinity call
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert default_jobs() == 8
