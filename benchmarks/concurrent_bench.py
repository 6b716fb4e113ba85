"""Several models: building nnlm, swivel and bert side by side against one after another.

Sources have the real models' shapes, made by this script (no network):
NNLM 1,000,000 words x 50 dims; SWIVEL 20,000 x 20; a BERT-style
tensorflow_text preprocess plus an encoder of ~110M parameters (144,000 x 768
embeddings, about BERT-base's 420 MiB). Each round, in fresh processes and
empty caches, interleaved:
  - one after another: `ensure_all_built(..., jobs=1)`, each build in its own
    process; its per-model times are the single builds;
  - side by side: `ensure_all_built(..., jobs=cores)`.
The goal is side-by-side wall <= 1.10 x max(slowest single build, sum of the
single builds / cores). Memory is the whole process tree's, sampled.

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
    "import json, sys, time\n"
    "from model_build import ensure_all_built\n"
    "singles = {}\n"
    "def note(line):\n"
    "    words = line.split()\n"
    "    if words[0] == 'built':\n"
    "        singles[words[1]] = float(words[3])\n"
    "ensure_all_built(json.loads(sys.argv[1]), sys.argv[2], jobs=int(sys.argv[3]), report=note)\n"
    "print(json.dumps(singles))\n"
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
    requested = json.dumps(make_sources())
    scratch = WORK / "concurrent_bench"

    def build(jobs: int, index: int):
        target = scratch / f"jobs{jobs}-{index}"
        shutil.rmtree(target, ignore_errors=True)
        run = run_tree(BUILD, requested, str(target), str(jobs))
        shutil.rmtree(target, ignore_errors=True)
        return run

    runs = interleaved(args.rounds, {"sequential": lambda i: build(1, i), "concurrent": lambda i: build(cores, i)})
    bounds, ratios = [], []
    for one_by_one, together in zip(runs["sequential"], runs["concurrent"], strict=True):
        singles = one_by_one.report
        bound = max(max(singles.values()), sum(singles.values()) / cores)
        bounds.append(bound)
        ratios.append(together.wall / bound)
    singles = {m: median([r.report[m] for r in runs["sequential"]]) for m in MODELS}
    seq_wall = median([r.wall for r in runs["sequential"]])
    con_wall = median([r.wall for r in runs["concurrent"]])
    print(f"{machine()}; {cores} jobs; medians of {args.rounds} interleaved rounds\n")
    print(table(
        ["measure", "side by side", "one after another", "bound", "ratio to bound", "goal"],
        [
            ["wall, median (range)", f"{con_wall:.1f} s ({spread([r.wall for r in runs['concurrent']])})",
             f"{seq_wall:.1f} s ({spread([r.wall for r in runs['sequential']])})", f"{median(bounds):.1f} s",
             f"{median(ratios):.2f}x ({spread(ratios)})", "<= 1.10x"],
            ["peak memory of the process tree, median", f"{median([r.peak_mib for r in runs['concurrent']]):,.0f} MiB",
             f"{median([r.peak_mib for r in runs['sequential']]):,.0f} MiB", "", "", "reported"],
        ],
    ))
    print()
    print(table(["single build (its own process), median", "wall"], [[m, f"{singles[m]:.1f} s"] for m in MODELS]))
    print(f"\nside by side vs one after another: {con_wall / seq_wall:.2f}x the wall time")


if __name__ == "__main__":
    main()
