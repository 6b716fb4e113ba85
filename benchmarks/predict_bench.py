"""Local predict: `bqml_text_embeddings.build predict`'s engine against the SavedModel called directly.

On a built NNLM-shaped model (1,000,000 words x 50 dims, made by
build_bench.py's recipe), over synthetic reviews of 20-120 words, in one
process, rounds interleaved; every contender loads the model, embeds every
text in batches of 128 (what BigQuery sends a remote model) and holds the
vectors as numpy arrays:
  - direct: `tf.saved_model.load(dir).signatures['serving_default']`;
  - embedded: `bqml_text_embeddings.build.predict.embedded` (what predict and evaluate use);
  - predict to JSONL: `bqml_text_embeddings.build.predict.predict` writing to /dev/null.

Run: .venv/bin/python benchmarks/predict_bench.py [--rounds 5] [--rows 50000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from build_bench import make_source
from measure import ROOT, WORK, machine, median, spread, table

sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    source = make_source(1_000_000)

    import numpy as np
    import tensorflow as tf

    from bqml_text_embeddings.build import ensure_all_built, predict
    from tests import fakehub

    model_dir = ensure_all_built({"nnlm": {"nnlm": source}}, WORK / "predict_build")["nnlm"].path
    rng = np.random.default_rng(0)
    vocab = np.array([*fakehub.demo_words(50_000), "unseenword"])
    texts = [" ".join(rng.choice(vocab, size=int(rng.integers(20, 120)))) for _ in range(args.rows)]
    size = predict.DEFAULT_BATCH_SIZE

    def direct() -> None:
        serving = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
        for start in range(0, len(texts), size):
            serving(content=tf.constant(texts[start : start + size]))["text_embedding"].numpy()

    def embedded() -> None:
        for _ in predict.embedded(model_dir, texts, size, progress=False):
            pass

    def to_jsonl() -> None:
        with open(os.devnull, "w") as sink:
            predict.predict(Path(model_dir), texts, sink, size, progress=False)

    contenders = {"direct": direct, "embedded": embedded, "predict to JSONL": to_jsonl}
    for run in contenders.values():
        run()  # warm-up: the first load traces and initialises the tables
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for index in range(args.rounds):
        for name in names[index % 3 :] + names[: index % 3]:
            start = time.perf_counter()
            contenders[name]()
            rates[name].append(len(texts) / (time.perf_counter() - start))
    reference = median(rates["direct"])
    print(f"{machine()}; {args.rows:,} texts, batches of {size}; medians of {args.rounds} interleaved rounds\n")
    print(table(
        ["local inference", "rows/s, median (range)", "ratio to direct"],
        [[name, f"{median(r):,.0f} ({spread([v / 1000 for v in r])} k)", f"{median(r) / reference:.2f}x"] for name, r in rates.items()],
    ))


if __name__ == "__main__":
    main()
