"""What every benchmark here shares: fresh processes, their wall time and memory, interleaved medians.

A child's peak memory is read by the child itself (VmHWM in /proc/self/status)
because ru_maxrss survives exec: a child spawned by a big parent would report
the parent's size. A process tree (a build that starts workers) is sampled
instead, every 20 ms: the sum of each process's proportional set size (Pss in
/proc/PID/smaps_rollup), so that pages forked children share with their
parent count once, not once per process as a sum of VmRSS would.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
CHILD_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(ROOT)}

# Appended to every child's code: its own peak memory, as the last JSON line.
_REPORT_PEAK = (
    "\nimport json as _j, re as _r\n"
    "_hwm = int(_r.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024\n"
    "print(_j.dumps({**globals().get('REPORT', {}), 'peak_mib': _hwm}))\n"
)


@dataclass
class Run:
    wall: float
    peak_mib: float  # the process's own VmHWM, or the sampled tree peak
    report: dict = field(default_factory=dict)


def run_child(code: str, *args: str) -> Run:
    """Runs `code` (which may set a REPORT dict) in a fresh interpreter."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code + _REPORT_PEAK, *args], cwd=ROOT, env=CHILD_ENV, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"benchmark child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(wall, report.pop("peak_mib"), report)


def run_tree(code: str, *args: str, interval: float = 0.02) -> Run:
    """Runs `code` in a fresh interpreter; peak memory is the sampled sum over it and its descendants."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=CHILD_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_pss_mib(proc.pid))
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({proc.returncode}):\n{err[-3000:]}")
    lines = out.strip().splitlines()
    return Run(wall, peak, json.loads(lines[-1]) if lines else {})


def _tree_pss_mib(root: int) -> float:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def interleaved(rounds: int, contenders: dict[str, Callable[[int], Run]]) -> dict[str, list[Run]]:
    """Each round runs every contender once, in an order that rotates, so drift hits all alike."""
    names = list(contenders)
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(contenders[name](index))
    return runs


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{len(os.sched_getaffinity(0))} cores ({cpu}), {mem:.0f} GiB, Python {platform.python_version()}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
