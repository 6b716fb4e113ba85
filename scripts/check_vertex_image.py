"""Proves a built model loads and serves in the TensorFlow of the runtime that will serve it.

The build runs TensorFlow 2.18 (bigquery-ml-utils pins it); BERT's runtime runs
another: TensorFlow Serving 2.20 (`tf-serving-2.20`, the default) or the
prebuilt image's 2.15 (`prebuilt-tf2-cpu.2-15`). This makes an isolated
virtualenv with that TensorFlow (and, when the model uses its ops, the
tensorflow-text that loads into it), loads the SavedModel there, runs its
serving signature on sample texts and compares the embeddings with those
computed here. Which ops the runtime's server registers is the build's own check
(model_build/runtimes.py): the 2.15 server links tensorflow-text 2.12.1's ops,
which no pip wheel loads into TensorFlow 2.15, so that run uses 2.15.0's, and
cannot see an op 2.15.0 has and the server lacks (TFText>RoundRobinTrim is one).

    .venv/bin/python scripts/check_vertex_image.py .build/bert-<key>/model
    .venv/bin/python scripts/check_vertex_image.py DIR --runtime prebuilt-tf2-cpu.2-15

Needs network access to PyPI for the first run (the venv is kept in
.build/vertex-image-envs/ and reused). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bqml_text_embeddings.build import runtimes  # noqa: E402 - after the path is set

TEXTS = ["Isabelle Huppert must be one of the greatest actresses", "a dull, boring film", ""]

_EMBED = (
    "import json, sys, os\n"
    "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
    "import tensorflow as tf\n"
    "try:\n"
    "    import tensorflow_text  # registers its ops if the model needs them\n"
    "except ImportError:\n"
    "    pass\n"
    "served = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
    "(name,) = served.structured_outputs\n"
    "out = served(content=tf.constant(json.loads(sys.argv[2])))[name].numpy()\n"
    "print(json.dumps({'tensorflow': tf.__version__, 'embeddings': out.tolist()}))\n"
)


def isolated_python(runtime: runtimes.Runtime, with_text: bool) -> Path:
    env_dir = ROOT / ".build" / "vertex-image-envs" / f"tf{runtime.tensorflow}{'-text' + runtime.check_tensorflow_text if with_text else ''}"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=True, clear=True)
        packages = [f"tensorflow-cpu=={runtime.tensorflow}"] + (
            [f"tensorflow-text=={runtime.check_tensorflow_text}"] if with_text else []
        )
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *packages], check=True)
    return python


def embed(python: Path, model_dir: Path) -> dict:
    done = subprocess.run([str(python), "-c", _EMBED, str(model_dir), json.dumps(TEXTS)], capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"FAIL: {model_dir} does not load or serve in {python}:\n{tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, help="a built SavedModel directory (.build/<model>-<key>/model)")
    parser.add_argument(
        "--runtime", choices=list(runtimes.RUNTIMES), default=runtimes.DEFAULT, help=f"BERT's runtime (default {runtimes.DEFAULT})"
    )
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()

    manifest_path = args.model_dir.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    runtime = runtimes.get(args.runtime)
    python = isolated_python(runtime, with_text=bool(manifest.get("non_core_ops", True)))

    here = embed(Path(sys.executable), args.model_dir)
    there = embed(python, args.model_dir)
    import numpy as np

    a, b = np.array(here["embeddings"]), np.array(there["embeddings"])
    if a.shape != b.shape or not np.allclose(a, b, atol=args.atol):
        raise SystemExit(
            f"FAIL: embeddings differ between TensorFlow {here['tensorflow']} and {there['tensorflow']} "
            f"(max abs diff {float(np.max(np.abs(a - b))) if a.shape == b.shape else 'shape ' + str(b.shape)})"
        )
    print(
        f"ok: {args.model_dir} loads and serves in TensorFlow {there['tensorflow']} (runtime {runtime.name}, tensorflow-text {runtime.check_tensorflow_text}); "
        f"{a.shape[0]} embeddings of {a.shape[1]} dims match TensorFlow {here['tensorflow']} within {args.atol}"
    )


if __name__ == "__main__":
    main()
