"""Several models: building nnlm, swivel and bert side by side against one after another.

Sources have the real models' shapes, made by this script (no network):
NNLM 1,000,000 words x 50 dims; SWIVEL 20,000 x 20; a BERT-style
tensorflow_text preprocess plus an encoder of ~110M parameters (144,000 x 768
embeddings, about BERT-base's 420 MiB). Each round, in fresh processes and
empty caches, interleaved:
  - each model alone: the single builds, what building just that model costs
    (a fresh process, TensorFlow's import included);
  - one after another: `ensure_all_built(..., jobs=1)`;
  - side by side, the default (jobs = cores: one build per core);
  - one more at once than cores (jobs = cores + 1: all three on 2 cores), for comparison;
  - the machine's own parallel capacity: `cores` CPU-bound Python loops side
    by side against one alone (2.0 on 2 cores that are really there).
The goal is side-by-side wall <= 1.10 x max(slowest single build, sum of the
single builds / cores), each round against its own single builds; the same
bound with the measured capacity in place of `cores` shows what is the
machine's. Memory is the whole process tree's (proportional set size), sampled.

Run: .venv/bin/python benchmarks/concurrent_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys

from measure import CHILD_ENV, ROOT, WORK, interleaved, machine, median, run_tree, spread, table

MODELS = ("nnlm", "swivel", "bert")
BUILD = (
    "import json, sys\n"
    "from bqml_text_embeddings.build import ensure_all_built\n"
    "ensure_all_built(json.loads(sys.argv[1]), sys.argv[2], jobs=int(sys.argv[3]))\n"
)
SPIN = (
    "import os, subprocess, sys, time\n"
    "loop = 'x = 0\\nfor i in range(12_000_000): x += i'\n"
    "start = time.perf_counter()\n"
    "procs = [subprocess.Popen([sys.executable, '-c', loop]) for _ in range(int(sys.argv[1]))]\n"
    "for proc in procs: proc.wait()\n"
    "print(time.perf_counter() - start)\n"
)
MAKE = (
    "import json, sys, pathlib\n"
    "from tests import fakehub\n"
    "root = pathlib.Path(sys.argv[1])\n"
    "pre, enc = fakehub.save_bert_modules(root / 'bert', fakehub.demo_words(144_000), dims=768)\n"
    "print(json.dumps({\n"
    "    'nnlm': {'nnlm': str(fakehub.save_word_embedding_module(root / 'nnlm', fakehub.demo_words(1_000_000), 50, seed=7))},\n"
    "    'swivel': {'swivel': str(fakehub.save_word_embedding_module(root / 'swivel', fakehub.demo_words(20_000), 20, seed=8))},\n"
    "    'bert': {'bertPreprocess': str(pre), 'bertEncoder': str(enc)},\n"
    "}))\n"
)


def make_sources() -> dict:
    root = WORK / "concurrent_sources"
    listing = root / "sources.json"
    if not listing.exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        made = subprocess.run([sys.executable, "-c", MAKE, str(root)], cwd=ROOT, env=CHILD_ENV, check=True, capture_output=True, text=True)
        listing.write_text(made.stdout.strip().splitlines()[-1])
    return json.loads(listing.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    requested = make_sources()
    scratch = WORK / "concurrent_bench"

    def build(jobs: int, index: int, only: str | None = None):
        target = scratch / f"jobs{jobs}-{only or 'all'}-{index}"
        shutil.rmtree(target, ignore_errors=True)
        run = run_tree(BUILD, json.dumps({only: requested[only]} if only else requested), str(target), str(jobs))
        shutil.rmtree(target, ignore_errors=True)
        return run

    def spin(count: int) -> float:
        done = subprocess.run([sys.executable, "-c", SPIN, str(count)], capture_output=True, text=True, check=True)
        return float(done.stdout.strip())

    runs = interleaved(args.rounds, {
        **{f"alone: {m}": lambda i, m=m: build(1, i, only=m) for m in MODELS},
        "sequential": lambda i: build(1, i),
        "default": lambda i: build(cores, i),
        "more": lambda i: build(cores + 1, i),
    })
    capacity = median([cores * spin(1) / spin(cores) for _ in range(args.rounds)])
    singles = {m: median([r.wall for r in runs[f"alone: {m}"]]) for m in MODELS}

    def ratios(name: str, width: float) -> list[float]:
        ratios = []
        for index, together in enumerate(runs[name]):
            alone = [runs[f"alone: {m}"][index].wall for m in MODELS]
            ratios.append(together.wall / max(max(alone), sum(alone) / width))
        return ratios

    bound = max(max(singles.values()), sum(singles.values()) / cores)
    machine_bound = max(max(singles.values()), sum(singles.values()) / capacity)
    seq_wall = median([r.wall for r in runs["sequential"]])
    print(f"{machine()}; medians of {args.rounds} interleaved rounds; measured parallel capacity {capacity:.2f} of {cores} cores\n")
    rows = []
    for name, label in (("default", f"side by side, default (jobs {cores})"), ("more", f"side by side, jobs {cores + 1}"),
                        ("sequential", "one after another (jobs 1)")):
        walls = [r.wall for r in runs[name]]
        rows.append([
            label, f"{median(walls):.1f} s ({spread(walls)})", f"{median(walls) / seq_wall:.2f}x",
            f"{median(ratios(name, cores)):.2f}x", f"{median(ratios(name, capacity)):.2f}x",
            f"{median([r.peak_mib for r in runs[name]]):,.0f} MiB",
        ])
    print(table(
        ["nnlm + swivel + bert, cold", "wall, median (range)", "vs one after another",
         f"ratio to bound ({bound:.1f} s; goal <= 1.10x)", f"ratio to the machine's bound ({machine_bound:.1f} s)", "peak memory (tree)"],
        rows,
    ))
    print()
    print(table(
        ["single build (alone, a fresh process), median", "wall", "peak memory (tree)"],
        [[m, f"{singles[m]:.1f} s", f"{median([r.peak_mib for r in runs[f'alone: {m}']]):,.0f} MiB"] for m in MODELS]
        + [["sum", f"{sum(singles.values()):.1f} s", ""]],
    ))
    print(f"\nbound = max(slowest single, sum / {cores} cores); the machine's bound uses the measured capacity {capacity:.2f}")

if __name__ == "__main__":
    main()
