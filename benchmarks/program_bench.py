"""Benchmark: evaluating the Pulumi program under mocks with a warm build cache.

This is the work a `pulumi preview` does in the program's process when no
model changed: read and validate config, find each model in the cache (no
TensorFlow), declare every resource. Small hub-format sources stand in for
TF Hub; they are built (once, untimed) into benchmarks/.work/.

Run: .venv/bin/python benchmarks/program_bench.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = ROOT / "benchmarks" / ".work" / "program"

_PREPARE = (
    "import json, sys, pathlib\n"
    "from tests import fakehub\n"
    "from model_build import ensure_built\n"
    "root = pathlib.Path(sys.argv[1]); words = fakehub.demo_words(5000)\n"
    "pre, enc = fakehub.save_bert_modules(root, words)\n"
    "src = {'nnlm': str(fakehub.save_word_embedding_module(root / 'nnlm', words, 50)),\n"
    "       'swivel': str(fakehub.save_word_embedding_module(root / 'swivel', words, 20)),\n"
    "       'bertPreprocess': str(pre), 'bertEncoder': str(enc)}\n"
    "for m, keys in (('nnlm', ['nnlm']), ('swivel', ['swivel']), ('bert', ['bertPreprocess', 'bertEncoder'])):\n"
    "    ensure_built(m, {k: src[k] for k in keys}, root / 'build')\n"
    "print(json.dumps(src))\n"
)
_EVALUATE = (
    "import json, sys, time\n"
    "t = time.perf_counter()\n"
    "from tests.pulumi_harness import run_program\n"
    "imported = time.perf_counter() - t\n"
    "times = []\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    t = time.perf_counter(); run = run_program(json.loads(sys.argv[1])); times.append(time.perf_counter() - t)\n"
    "tf = any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules)\n"
    "print(json.dumps({'import': imported, 'times': times, 'resources': len(run.declared), 'tf': tf}))\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    prepared = subprocess.run([sys.executable, "-c", _PREPARE, str(WORK)], cwd=ROOT, check=True, capture_output=True, text=True)
    sources = json.loads(prepared.stdout.strip().splitlines()[-1])
    base = {"gcp:project": "bench-project-1", "modelSources": sources, "buildDir": str(WORK / "build")}
    print("| configuration | resources | fresh process (wall) | imports | first evaluation | later evaluations (median) | TensorFlow imported |")
    print("|---|---|---|---|---|---|---|")
    for label, config in (("default (nnlm, swivel)", base), ("all three models", {**base, "models": ["nnlm", "swivel", "bert"]})):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _EVALUATE, json.dumps(config), str(args.repeats)], cwd=ROOT, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - start
        report = json.loads(done.stdout.strip().splitlines()[-1])
        later = statistics.median(report["times"][1:]) if len(report["times"]) > 1 else float("nan")
        print(
            f"| {label} | {report['resources']} | {wall:.2f} s | {report['import']:.2f} s | "
            f"{report['times'][0] * 1000:.0f} ms | {later * 1000:.0f} ms | {report['tf']} |"
        )


if __name__ == "__main__":
    main()
