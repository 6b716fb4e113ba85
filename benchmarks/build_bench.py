"""One model: our cold build against bigquery-ml-utils' TextEmbeddingModelGenerator alone.

The source is a synthetic hub-format module with NNLM-en-dim50's real shape
(1,000,000 words x 50 dims, about 200 MiB), made by this script (no network).
Each contender runs in a fresh process, rounds interleaved:
  - ours: `ensure_built('nnlm', ...)` into an empty cache: probe, build,
    canonical bytes, hashes, signature/size/op check, manifest, publish;
  - bare: `TextEmbeddingModelGenerator(nnlm_link=...).generate_text_embedding_model(...)`,
    what the tutorial runs;
  - served: the same build as `pulumi up` and the CLI run it,
    `ensure_all_built`, which hands it to the build server (a second
    interpreter that imports TensorFlow and forks the build); its memory is
    the process tree's, sampled (proportional set size).
Then the warm path: a fresh process asking for the same build.

Run: .venv/bin/python benchmarks/build_bench.py [--rounds 5] [--vocab 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from measure import CHILD_ENV, ROOT, WORK, interleaved, machine, median, run_child, run_tree, spread, table

OURS = (
    "import sys\n"
    "from bqml_text_embeddings.build import ensure_built\n"
    "built = ensure_built('nnlm', {'nnlm': sys.argv[1]}, sys.argv[2])\n"
    "REPORT = {'size': built.manifest['total_size'], 'tf': 'tensorflow' in sys.modules}\n"
)
# What `pulumi up` and the CLI run: the build server, TensorFlow imported once, the build in a fork of it.
SERVED = (
    "import sys\n"
    "from bqml_text_embeddings.build import ensure_all_built\n"
    "ensure_all_built({'nnlm': {'nnlm': sys.argv[1]}}, sys.argv[2])\n"
)
BARE = (
    "import sys\n"
    "from bigquery_ml_utils.model_generator import TextEmbeddingModelGenerator\n"
    "TextEmbeddingModelGenerator(nnlm_link=sys.argv[1]).generate_text_embedding_model('nnlm', sys.argv[2])\n"
)


def make_source(vocab: int) -> str:
    source = WORK / f"nnlm_source_{vocab}"
    if not (source / "saved_model.pb").exists():
        # Made in a child so this process stays small (see measure.py).
        subprocess.run(
            [sys.executable, "-c", "import sys; from tests import fakehub; "
             "fakehub.save_word_embedding_module(sys.argv[1], fakehub.demo_words(int(sys.argv[2])), 50, seed=7)",
             str(source), str(vocab)],
            cwd=ROOT, env=CHILD_ENV, check=True,
        )
    return str(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--vocab", type=int, default=1_000_000)
    args = parser.parse_args()
    source = make_source(args.vocab)
    scratch = WORK / "build_bench"

    def fresh(name: str, index: int) -> str:
        path = scratch / f"{name}-{index}"
        shutil.rmtree(path, ignore_errors=True)
        return str(path)

    runs = interleaved(args.rounds, {
        "ours": lambda i: run_child(OURS, source, fresh("ours", i)),
        "bare": lambda i: run_child(BARE, source, fresh("bare", i)),
        "served": lambda i: run_tree(SERVED, source, fresh("served", i)),
    })
    warm = [run_child(OURS, source, str(scratch / "ours-0")) for _ in range(args.rounds)]
    assert not any(run.report["tf"] for run in warm), "the warm path imported TensorFlow"
    shutil.rmtree(scratch, ignore_errors=True)

    ours_wall, bare_wall = median([r.wall for r in runs["ours"]]), median([r.wall for r in runs["bare"]])
    ours_peak, bare_peak = median([r.peak_mib for r in runs["ours"]]), median([r.peak_mib for r in runs["bare"]])
    print(f"{machine()}; source {args.vocab:,} words x 50 dims; medians of {args.rounds} interleaved rounds\n")
    print(table(
        ["cold build, fresh process", "ours (ensure_built)", "bare generator", "ratio", "goal"],
        [
            ["wall, median (range)", f"{ours_wall:.2f} s ({spread([r.wall for r in runs['ours']])})",
             f"{bare_wall:.2f} s ({spread([r.wall for r in runs['bare']])})", f"{ours_wall / bare_wall:.2f}x", "≤ 1.10x"],
            ["peak memory, median", f"{ours_peak:,.0f} MiB", f"{bare_peak:,.0f} MiB", f"{ours_peak / bare_peak:.2f}x", "≤ 1.05x"],
        ],
    ))
    served_wall, served_peak = median([r.wall for r in runs["served"]]), median([r.peak_mib for r in runs["served"]])
    print()
    print(table(
        ["cold build, fresh process", "through the build server (ensure_all_built)", "bare generator", "ratio"],
        [
            ["wall, median (range)", f"{served_wall:.2f} s ({spread([r.wall for r in runs['served']])})",
             f"{bare_wall:.2f} s", f"{served_wall / bare_wall:.2f}x"],
            ["peak memory, median (the server's: sampled, proportional)", f"{served_peak:,.0f} MiB", f"{bare_peak:,.0f} MiB",
             f"{served_peak / bare_peak:.2f}x"],
        ],
    ))
    warm_wall = median([r.wall for r in warm])
    print()
    print(table(
        ["warm cache, fresh process", "value"],
        [
            ["wall, median", f"{warm_wall:.2f} s ({warm_wall / bare_wall:.3f}x the bare cold build)"],
            ["peak memory, median", f"{median([r.peak_mib for r in warm]):,.0f} MiB"],
            ["imports TensorFlow", "no"],
            ["artifact size", f"{runs['ours'][0].report['size'] / 2**20:,.1f} MiB"],
        ],
    ))


if __name__ == "__main__":
    main()
