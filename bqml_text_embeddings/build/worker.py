"""The build server: TensorFlow imported once, each build in a fresh fork of it.

`python -m bqml_text_embeddings.build.worker BUILD_DIR` imports TensorFlow, keeps its core op
set for BUILD_DIR (read from the op registry before tensorflow_text adds to
it), imports the generator, and then forks one child per request: each build
starts from the same just-imported state, as if in a process of its own
(TensorFlow's process-wide state never mixes two builds), without paying the
import each time (most of a small build's cost).

Requests arrive on stdin, one JSON line each: {"model", "sources" (resolved
handles), "build_dir"}. For each finished build one JSON line goes to stdout:
{"model", "status" (exit status; -N for signal N), "out", "err"}, where the
build's last line of output is {"ok": true} or {"error": "<the BuildError>"}.
Closing stdin lets the running builds finish, then the server exits, as
each build does, without tearing down TensorFlow (most of a second).

Forking is safe only while this process has one thread. Should anything have
started another, each child execs a fresh interpreter instead
(`python -m bqml_text_embeddings.build.worker --one`, the request on its stdin: a process's arguments are visible to
every user of the machine, and a source handle may hold a credential): slower, still correct.
"""

from __future__ import annotations

import json
import os
import selectors
import sys
import tempfile
import traceback
from pathlib import Path
from typing import IO, Any

from bqml_text_embeddings.build.api import ensure_built
from bqml_text_embeddings.build.errors import BuildError

FAILED = 3  # exit status of a build that failed with a BuildError
_ERR_TAIL = 4000  # characters of a child's stderr worth passing on


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        status = build_one(json.loads(sys.stdin.read()))
    else:
        (build_dir,) = argv
        serve(Path(build_dir))
        status = 0
    sys.stdout.flush()
    sys.stderr.flush()
    # Straight out: tearing down an interpreter that holds TensorFlow takes most of a second,
    # which the caller would wait for, and there is nothing left to clean up.
    os._exit(status)


def build_one(request: dict[str, Any]) -> int:
    try:
        ensure_built(request["model"], request["sources"], request["build_dir"])
    except BuildError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return FAILED
    print(json.dumps({"ok": True}), flush=True)
    return 0


def preload(build_dir: Path) -> None:
    """What every build imports, once; the core op set first, while the registry holds only core ops."""
    from bqml_text_embeddings.build import builder, check

    builder.quiet_tensorflow()
    check.core_ops(build_dir)
    try:
        import tensorflow_hub  # noqa: F401
        from bigquery_ml_utils import model_generator  # noqa: F401
    except Exception:  # noqa: BLE001 - each build imports them again and reports the failure as its own
        pass


def serve(build_dir: Path) -> None:
    # numpy's and scipy's OpenBLAS each start a thread on import unless told
    # not to; the builds do not need them, and forking wants one thread.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Events go out on a copy of stdout, and stdout itself to stderr: a library's print cannot garble them.
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    if _single_threaded():  # else each build execs a fresh interpreter, and preloading would be wasted
        preload(build_dir)
    children: dict[int, tuple[str, Any, Any]] = {}  # pid: (model, its stdout, its stderr)
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    pending = b""
    accepting = True
    while accepting or children:
        if accepting:
            if selector.select(timeout=0.05):
                data = os.read(sys.stdin.fileno(), 1 << 16)
                accepting = bool(data)
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    request = json.loads(line)
                    pid, out, err = _start(request, events)
                    children[pid] = (request["model"], out, err)
            _reap(children, events, block=False)
        else:
            _reap(children, events, block=True)


def _start(request: dict[str, Any], events: IO[str]) -> tuple[int, Any, Any]:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 - closed by _read once the child is reaped
    alone = _single_threaded()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid, out, err
    status = 1
    try:
        os.close(events.fileno())  # the caller sees the server's end when the server ends
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        if not alone:
            read, write = os.pipe()
            os.write(write, json.dumps(request).encode())  # a few hundred bytes: well within a pipe's buffer
            os.close(write)
            os.dup2(read, 0)
            os.execv(sys.executable, [sys.executable, "-m", "bqml_text_embeddings.build.worker", "--one"])
        status = build_one(request)
    except BaseException:  # noqa: BLE001 - whatever happens, the child must not return into the server's loop
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _single_threaded() -> bool:
    """Whether this process has one thread (known on Linux; elsewhere not assumed)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _reap(children: dict[int, tuple[str, Any, Any]], events: IO[str], *, block: bool) -> None:
    while children:
        pid, wait_status = os.waitpid(-1, 0 if block else os.WNOHANG)
        if pid == 0:
            return
        model, out, err = children.pop(pid)
        event = {
            "model": model,
            "status": os.waitstatus_to_exitcode(wait_status),
            "out": _read(out),
            "err": _read(err)[-_ERR_TAIL:],
        }
        events.write(json.dumps(event) + "\n")
        events.flush()
        block = False


def _read(file: Any) -> str:
    with file:
        file.seek(0)
        return file.read().decode("utf-8", "replace")


if __name__ == "__main__":
    main(sys.argv[1:])
