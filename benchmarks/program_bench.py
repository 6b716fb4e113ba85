"""Warm path: evaluating the Pulumi program with every model cached, against the import floor.

What a `pulumi preview` does in the program's process when no model
changed: start Python, import pulumi and pulumi_gcp, read and validate
config, find each model in the cache (no TensorFlow), declare every resource
(here under `pulumi.runtime.set_mocks`). The floor is the part no program can
skip: `import pulumi, pulumi_gcp` in a fresh process. pulumi_gcp loads a
service's resource modules on first use (about 60 modules each for BigQuery,
Storage and Vertex AI), which any program declaring those resources pays, so a
second reference loads just those. Small hub-format sources stand in for TF
Hub; they are built once, untimed.

Run: .venv/bin/python benchmarks/program_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from measure import CHILD_ENV, ROOT, WORK, Run, interleaved, machine, median, run_child, spread, table

PREPARE = (
    "import json, sys, pathlib\n"
    "from tests import fakehub\n"
    "from bqml_text_embeddings.build import ensure_all_built\n"
    "root = pathlib.Path(sys.argv[1]); words = fakehub.demo_words(5000)\n"
    "pre, enc = fakehub.save_bert_modules(root, words)\n"
    "src = {'nnlm': str(fakehub.save_word_embedding_module(root / 'nnlm', words, 50)),\n"
    "       'swivel': str(fakehub.save_word_embedding_module(root / 'swivel', words, 20)),\n"
    "       'bertPreprocess': str(pre), 'bertEncoder': str(enc)}\n"
    "ensure_all_built({'nnlm': {'nnlm': src['nnlm']}, 'swivel': {'swivel': src['swivel']},\n"
    "                  'bert': {k: src[k] for k in ('bertPreprocess', 'bertEncoder')}}, root / 'build')\n"
    "print(json.dumps(src))\n"
)
FLOOR = "import pulumi, pulumi_gcp\n"
WITH_MODULES = (
    "import sys, pulumi, pulumi_gcp as gcp\n"
    "for name in sys.argv[1].split(','):\n"
    "    service, resource = name.split('.')\n"
    "    getattr(getattr(gcp, service), resource)  # a lazy module loads on a resource's first use\n"
)
# One resource of each pulumi_gcp service each configuration declares.
SERVICES = {
    "default (nnlm, swivel)": "projects.Service,bigquery.Dataset,storage.Bucket",
    "all three models": "projects.Service,bigquery.Dataset,storage.Bucket,vertex.AiEndpoint",
}
PROGRAM = (
    "import json, sys, time\n"
    "from tests.pulumi_harness import run_program\n"
    "start = time.perf_counter()\n"
    "run = run_program(json.loads(sys.argv[1]))\n"
    "REPORT = {'evaluation': time.perf_counter() - start, 'resources': len(run.declared),\n"
    "          'tf': any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules)}\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = WORK / "program"
    work.mkdir(parents=True, exist_ok=True)
    prepared = subprocess.run([sys.executable, "-c", PREPARE, str(work)], cwd=ROOT, env=CHILD_ENV, check=True, capture_output=True, text=True)
    sources = json.loads(prepared.stdout.strip().splitlines()[-1])
    base = {"gcp:project": "bench-project-1", "modelSources": sources, "buildDir": str(work / "build")}
    configs = {"default (nnlm, swivel)": base, "all three models": {**base, "models": ["nnlm", "swivel", "bert"]}}

    contenders = {"floor": lambda _: run_child(FLOOR)}
    for label, config in configs.items():
        contenders[f"modules: {label}"] = lambda _, label=label: run_child(WITH_MODULES, SERVICES[label])
        contenders[label] = lambda _, config=config: run_child(PROGRAM, json.dumps(config))
    runs = interleaved(args.rounds, contenders)
    assert not any(r.report["tf"] for label in configs for r in runs[label]), "the warm path imported TensorFlow"

    floor = median([r.wall for r in runs["floor"]])
    print(f"{machine()}; medians of {args.rounds} interleaved rounds, each a fresh process\n")
    rows = [["`import pulumi, pulumi_gcp` (the floor)", "", f"{floor:.2f} s ({spread([r.wall for r in runs['floor']])})", "1.00x", "", ""]]
    for label in configs:
        modules = median([r.wall for r in runs[f"modules: {label}"]])
        rows.append([f"floor + pulumi_gcp's {', '.join(n.split('.')[0] for n in SERVICES[label].split(','))} modules", "", f"{modules:.2f} s", f"{modules / floor:.2f}x", "", ""])
        done: list[Run] = runs[label]
        wall = median([r.wall for r in done])
        evaluation = median([r.report["evaluation"] for r in done])
        rows.append([
            f"**program: {label}**", str(done[0].report["resources"]), f"{wall:.2f} s ({spread([r.wall for r in done])})",
            f"{wall / floor:.2f}x", f"{evaluation * 1000:.0f} ms (ours: {(wall - modules) * 1000:.0f} ms)",
            f"{median([r.peak_mib for r in done]):,.0f} MiB",
        ])
    print(table(["warm preview, fresh process", "resources", "wall, median (range)", "ratio to floor", "program evaluation", "peak memory"], rows))
    print("\nprogram evaluation: from the harness's start to the last resource declared; "
          "ours: the program's wall less the floor-plus-modules reference")

if __name__ == "__main__":
    main()
