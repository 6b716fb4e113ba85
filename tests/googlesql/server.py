"""ZetaSQL's local service as a child process on 127.0.0.1."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

from tests.googlesql import protos

# The npm package's binaries: (system, machine) -> file in lib/zetasql.
BINARIES = {
    ("Linux", "x86_64"): "remote_server.so",
    ("Linux", "aarch64"): "remote_server_arm.so",
    ("Linux", "arm64"): "remote_server_arm.so",
    ("Darwin", "x86_64"): "remote_server",
    ("Darwin", "arm64"): "remote_server_arm",
}
START_TIMEOUT = 60.0


def binary() -> Path:
    key = (platform.system(), platform.machine())
    if key not in BINARIES:
        raise protos.MissingEngine(f"ZetaSQL's local service has no binary for {key[0]} {key[1]} in the npm package")
    path = protos.require_home() / BINARIES[key]
    if not path.is_file():
        raise protos.MissingEngine(f"{path} is missing: run ./dev setup")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux only: the kernel kills the server when the test process dies, even by SIGKILL,
    # where neither the fixture's finalizer nor atexit runs. Strictly, when the thread that
    # started it ends: start the engine from the main thread or a thread that outlives its use.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


class Server:
    """One server process and a channel to it; `close()` (or `with`) stops it."""

    def __init__(self) -> None:
        path = binary()
        last_error = ""
        # The port is picked before the server binds it: another process may take it between,
        # so a server that exits at once is retried on a new port.
        for _ in range(3):
            self.port = _free_port()
            # A file, not a pipe: nobody reads a pipe while tests run, and a full one blocks the server.
            self.log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
            self.process = subprocess.Popen(
                [str(path), "127.0.0.1", str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
            deadline = time.monotonic() + START_TIMEOUT
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    grpc.channel_ready_future(self.channel).result(timeout=0.2)
                    # For an engine nobody closes (no fixture, no `with`) on a system without PDEATHSIG.
                    atexit.register(self.close)
                    return
                except grpc.FutureTimeoutError:
                    continue
            self.channel.close()
            if self.process.poll() is None:
                self._stop()
                raise RuntimeError(f"ZetaSQL's local service did not answer on 127.0.0.1:{self.port} within {START_TIMEOUT:.0f} s")
            self.log.seek(0)
            last_error = self.log.read().decode(errors="replace").strip()
            self.log.close()
        raise RuntimeError(f"ZetaSQL's local service ({path}) exited at start: {last_error}")

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def close(self) -> None:
        atexit.unregister(self.close)
        self.channel.close()
        self._stop()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
