"""Several models built side by side, each in its own process, into the one atomic cache.

Cached models are answered here without TensorFlow. The cold ones go to one
build server (`bqml_text_embeddings.build.worker`), which imports TensorFlow once and forks a
fresh process per build; by default one build per core at a time (with the
import shared, a build is all computation, and one more at once only
contends for the cores: docs/benchmarks.md), biggest source first so that
the longest build does not start last. A build that fails, or
whose process dies, is reported by model once every other build has
finished: what did build is published and stays cached.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bqml_text_embeddings.build import cache, catalog, sources
from bqml_text_embeddings.build.api import DEFAULT_BUILD_DIR
from bqml_text_embeddings.build.cache import BuiltModel
from bqml_text_embeddings.build.errors import BuildError
from bqml_text_embeddings.build.worker import FAILED

WORKER = (sys.executable, "-m", "bqml_text_embeddings.build.worker")
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the directory holding bqml_text_embeddings


@dataclass(frozen=True)
class _Plan:
    model: str
    handles: dict[str, str]
    entry: Path


def default_jobs() -> int:
    """The cores this process may use (all of them where that cannot be asked: macOS)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def ensure_all_built(
    requested: Mapping[str, Mapping[str, str] | None],
    build_dir: str | Path = DEFAULT_BUILD_DIR,
    *,
    jobs: int | None = None,
    report: Callable[[str], None] | None = None,
    worker: Sequence[str] = WORKER,
) -> dict[str, BuiltModel]:
    """{model: its checked build} for each requested model (with its source overrides).

    Bad sources fail before any build starts. Raises one BuildError naming
    every model that failed to build, after the others are built and cached.
    """
    build_dir = Path(build_dir)
    plans = [_plan(model, overrides, build_dir) for model, overrides in requested.items()]
    built = {plan.model: found for plan in plans if (found := cache.load(plan.entry)) is not None}
    cold = sorted((plan for plan in plans if plan.model not in built), key=_source_bytes, reverse=True)
    if cold:
        failures = _build_in_server(cold, build_dir, jobs or default_jobs(), report or (lambda _: None), worker)
        for plan in cold:
            if plan.model not in failures:
                found = cache.load(plan.entry)
                if found is None:
                    failures[plan.model] = f"{plan.model}: its worker finished but {plan.entry} holds no complete build"
                else:
                    built[plan.model] = found
        if failures:
            raise BuildError(_failure_message(failures, [p.model for p in plans if p.model in built]))
    return {model: built[model] for model in requested}


def _plan(model: str, overrides: Mapping[str, str] | None, build_dir: Path) -> _Plan:
    spec = catalog.get(model)
    handles = sources.resolve(spec, overrides)
    return _Plan(model, handles, cache.entry_dir(build_dir, spec, cache.cache_key(spec, handles)))


def _source_bytes(plan: _Plan) -> int:
    """How big a build's sources are (a cold build only: it walks local ones), to start the biggest first."""
    roles = catalog.get(plan.model).sources
    return sum(
        role.approx_mib * 2**20 if sources.is_remote(handle) else sources.local_size(handle)
        for role, handle in zip(roles, plan.handles.values(), strict=True)
    )


def _build_in_server(
    plans: list[_Plan], build_dir: Path, jobs: int, report: Callable[[str], None], worker: Sequence[str]
) -> dict[str, str]:
    """Builds through one build server, at most `jobs` at once; {model: what went wrong} for those that failed."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    failures: dict[str, str] = {}
    waiting = list(plans)
    started: dict[str, float] = {}
    with tempfile.TemporaryFile() as server_err:
        server = subprocess.Popen(
            [*worker, str(build_dir)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=server_err,
            text=True, start_new_session=True,  # its own process group: an interrupt stops the server and its builds
        )
        assert server.stdin is not None and server.stdout is not None
        try:
            try:
                while waiting and len(started) < jobs:
                    _send(server.stdin, waiting.pop(0), build_dir, started, report)
                for line in server.stdout:
                    event = json.loads(line)
                    model = event["model"]
                    problem = _problem(model, event["status"], event["out"], event["err"])
                    if problem is None:
                        report(f"built {model} in {time.monotonic() - started.pop(model):.1f} s")
                    else:
                        started.pop(model)
                        failures[model] = problem
                        report(f"building {model} failed")
                    if waiting:
                        _send(server.stdin, waiting.pop(0), build_dir, started, report)
                    elif not started:
                        break
            except BrokenPipeError:
                pass  # the server died: named below with what it said
            server.stdin.close()
            server.wait()
        finally:
            if server.returncode is None or started:  # interrupted, or the server died: stop what it forked
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        if started or waiting:
            server_err.seek(0)
            said = server_err.read().decode("utf-8", "replace")
            for plan in [*(p for p in plans if p.model in started), *waiting]:
                failures[plan.model] = _problem(plan.model, server.returncode or 1, "", said) or ""
    return failures


def _send(stdin: IO[str], plan: _Plan, build_dir: Path, started: dict[str, float], report: Callable[[str], None]) -> None:
    report(f"building {plan.model}")
    started[plan.model] = time.monotonic()
    stdin.write(json.dumps({"model": plan.model, "sources": plan.handles, "build_dir": str(build_dir)}) + "\n")
    stdin.flush()


def _problem(model: str, status: int, out: str, err: str) -> str | None:
    """None for a build that succeeded, else what went wrong, naming the model."""
    if status == 0:
        return None
    if status == FAILED:
        try:
            return json.loads(out.strip().splitlines()[-1])["error"]
        except (ValueError, IndexError, KeyError, TypeError):
            pass
    if status < 0:
        name = signal.Signals(-status).name
        hint = " (out of memory? build fewer at once: config buildJobs, CLI --jobs)" if name == "SIGKILL" else ""
        return f"building {model} was stopped by {name}{hint}"
    last = next((line.strip() for line in reversed(err.splitlines()) if line.strip()), "no output")
    return f"building {model} crashed (exit {status}): {last[:300]}"


def _failure_message(failures: dict[str, str], cached: list[str]) -> str:
    kept = f" ({', '.join(cached)} built and cached)" if cached else ""
    if len(failures) == 1:
        (problem,) = failures.values()
        return problem + kept
    return f"{len(failures)} models failed to build{kept}: " + "; ".join(
        f"[{model}] {problem}" for model, problem in failures.items()
    )
