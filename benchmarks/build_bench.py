"""Benchmark of the build step on a synthetic model with NNLM's real shape.

NNLM-en-dim50 has a vocabulary of about a million words and 50 dims; this
builds such a module itself (no network), then measures:
  - cold build (fresh process, empty cache): wall time and peak memory;
  - warm cache: a fresh process asking for the same build, and the call alone;
  - artifact size against source size;
  - local inference rows/s of the built model against the source module
    called directly (the wrapper should cost at most 5%).

Run: .venv/bin/python benchmarks/build_bench.py [--vocab 1000000] [--rows 20000]
Prints a Markdown table; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

WORK = ROOT / "benchmarks" / ".work"
_ENSURE = (
    "import json, sys, time\n"
    "t = time.perf_counter()\n"
    "from model_build import ensure_built\n"
    "b = ensure_built('nnlm', {'nnlm': sys.argv[1]}, sys.argv[2])\n"
    "print(json.dumps({'seconds': time.perf_counter() - t, 'path': str(b.path), 'size': b.manifest['total_size'],"
    " 'tf': 'tensorflow' in sys.modules}))\n"
)


def _timed_child(*args: str) -> tuple[dict, float, float]:
    """Runs _ENSURE in a fresh process: its report, wall seconds, peak RSS in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _ENSURE, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed:\n{err}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _rates(fns: dict, batches: list, repeats: int) -> dict[str, float]:
    """Median rows/s of each function, rounds interleaved so drift hits all alike."""
    for fn in fns.values():
        fn(batches[0])  # warm-up: the first call traces and initialises tables
    rates: dict[str, list[float]] = {name: [] for name in fns}
    rows = sum(int(batch.shape[0]) for batch in batches)
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for batch in batches:
                fn(batch)
            rates[name].append(rows / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=50)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    if args.dims != 50:
        raise SystemExit("--dims must be 50: the catalogue's nnlm is 50-dim")

    shutil.rmtree(WORK, ignore_errors=True)
    source, build_dir = WORK / "nnlm_source", WORK / "build"
    # Made in a child, so that this process is still small when it forks the measured
    # builds (a forked child's peak RSS starts from its parent's).
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import sys; from tests import fakehub; "
         "fakehub.save_word_embedding_module(sys.argv[1], fakehub.demo_words(int(sys.argv[2])), 50, seed=7)",
         str(source), str(args.vocab)],
        cwd=ROOT, check=True,
    )
    make_source = time.perf_counter() - start

    cold, cold_wall, cold_rss = _timed_child(str(source), str(build_dir))
    warm, warm_wall, warm_rss = _timed_child(str(source), str(build_dir))
    assert warm["path"] == cold["path"] and not warm["tf"], "warm cache rebuilt or imported TensorFlow"

    import numpy as np
    import tensorflow as tf
    import tensorflow_hub as hub

    from tests import fakehub

    words = fakehub.demo_words(args.vocab)

    rng = np.random.default_rng(0)
    vocab = np.array([*words[:50_000], "unseenword"])
    texts = [" ".join(rng.choice(vocab, size=int(rng.integers(20, 120)))) for _ in range(args.rows)]
    batches = [tf.constant(texts[i : i + args.batch]) for i in range(0, len(texts), args.batch)]
    direct = hub.load(str(source))
    served = tf.saved_model.load(cold["path"]).signatures["serving_default"]
    first = batches[0]
    assert np.allclose(direct(first).numpy(), served(content=first)["text_embedding"].numpy(), atol=1e-5)
    rates = _rates({"source": lambda b: direct(b), "built": lambda b: served(content=b)}, batches, args.repeats)
    source_rate, built_rate = rates["source"], rates["built"]

    source_size, artifact_size = _dir_size(source), cold["size"]
    rows = [
        ("synthetic source (vocab x dims)", f"{args.vocab:,} x {args.dims}"),
        ("making the source", f"{make_source:.1f} s"),
        ("cold build, fresh process (wall)", f"{cold_wall:.1f} s"),
        ("cold build, ensure_built call", f"{cold['seconds']:.1f} s"),
        ("cold build, peak RSS", f"{cold_rss:,.0f} MiB"),
        ("warm cache, fresh process (wall)", f"{warm_wall:.2f} s"),
        ("warm cache, ensure_built call", f"{warm['seconds'] * 1000:.0f} ms"),
        ("warm cache, peak RSS / imports TensorFlow", f"{warm_rss:,.0f} MiB / {warm['tf']}"),
        ("source size", f"{source_size / 2**20:,.1f} MiB"),
        ("artifact size (ratio to source)", f"{artifact_size / 2**20:,.1f} MiB ({artifact_size / source_size:.3f})"),
        (f"inference, source module ({args.rows:,} rows, batch {args.batch})", f"{source_rate:,.0f} rows/s"),
        ("inference, built model", f"{built_rate:,.0f} rows/s"),
        ("wrapper cost (target <= 5%)", f"{(source_rate - built_rate) / source_rate * 100:+.1f}%"),
    ]
    print("| measure | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
