"""Proves a built model loads and serves in the TensorFlow of a Vertex AI prebuilt image.

The build runs TensorFlow 2.18 (bigquery-ml-utils pins it); the prebuilt
prediction image runs an older TensorFlow (tf2-cpu.2-15 by default). This
makes an isolated virtualenv with that TensorFlow (and tensorflow-text of the
same minor version when the model uses its ops), loads the SavedModel there,
runs its serving signature on sample texts and compares the embeddings with
those computed here.

    .venv/bin/python scripts/check_vertex_image.py .build/bert-<key>/model
    .venv/bin/python scripts/check_vertex_image.py DIR --image us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-14:latest

Needs network access to PyPI for the first run (the venv is kept in
.build/vertex-image-envs/ and reused). Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
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


def tensorflow_minor(image: str) -> str:
    match = re.search(r"tf2-(?:cpu|gpu)\.2-(\d+)", image)
    if not match:
        raise SystemExit(f"error: cannot tell the TensorFlow version of {image}: expected a tf2-cpu.2-NN image")
    return f"2.{match.group(1)}"


def isolated_python(minor: str, with_text: bool) -> Path:
    env_dir = ROOT / ".build" / "vertex-image-envs" / f"tf{minor}{'-text' if with_text else ''}"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=True, clear=True)
        packages = [f"tensorflow-cpu=={minor}.*"] + ([f"tensorflow-text=={minor}.*"] if with_text else [])
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
    parser.add_argument("--image", default=DEFAULT_IMAGE, help=f"prebuilt prediction image (default {DEFAULT_IMAGE})")
    parser.add_argument("--atol", type=float, default=1e-4)
    args = parser.parse_args()

    manifest_path = args.model_dir.parent / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    minor = tensorflow_minor(args.image)
    python = isolated_python(minor, with_text=bool(manifest.get("non_core_ops", True)))

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
        f"ok: {args.model_dir} loads and serves in TensorFlow {there['tensorflow']} ({args.image}); "
        f"{a.shape[0]} embeddings of {a.shape[1]} dims match TensorFlow {here['tensorflow']} within {args.atol}"
    )


if __name__ == "__main__":
    main()
