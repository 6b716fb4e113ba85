"""Writes the op registry of each serving runtime BERT may be served by, as data.

A runtime's registry is what its model server can run: the ops TensorFlow N
registers, plus the tensorflow-text ops that server links (TensorFlow Serving
2.14-2.19 link tensorflow-text 2.12.1, 2.20 links 2.20.0:
`tensorflow_serving/workspace.bzl`). Each op is listed with its attribute
names. The ops come from the pip-installable wheels, each set read in a
virtualenv of its own (tensorflow-text's ops load only into the TensorFlow
they were built for): the core ops from `tensorflow-cpu==N` alone, the text
ops from `tensorflow-cpu` + `tensorflow-text==T` less that TensorFlow's own.

    .venv/bin/python scripts/op_registry.py                 # every runtime
    .venv/bin/python scripts/op_registry.py tf-serving-2.20 --envs /tmp/op-envs

Needs PyPI (the wheels are hundreds of MB); not part of the test run. Writes
model_build/op_registries/RUNTIME.json: sorted, one op a line, stable bytes.
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

# The TensorFlow each tensorflow-text release was built against (its wheel pins it).
TEXT_BUILT_FOR = {"2.12.1": "2.12.1", "2.20.0": "2.20.0"}

_DUMP = r"""
import glob, json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
from tensorflow.core.framework import op_def_pb2
from tensorflow.python.client import pywrap_tf_session as c

def registered():
    ops = op_def_pb2.OpList()
    ops.ParseFromString(c.TF_GetBuffer(c.TF_GetAllOpList()))
    return {o.name: sorted(a.name for a in o.attr) for o in ops.op}

core = registered()
out = {"tensorflow": tf.__version__, "ops": core}
if sys.argv[1] == "text":
    import tensorflow_text
    from importlib.metadata import version
    here = os.path.dirname(tensorflow_text.__file__)
    for library in sorted(glob.glob(os.path.join(here, "**", "*.so"), recursive=True)):
        tf.load_op_library(library)  # every kernel library the wheel ships, used by Python or not
    out = {"tensorflow": tf.__version__, "tensorflow_text": version("tensorflow-text"),
           "ops": {name: attrs for name, attrs in registered().items() if name not in core}}
print(json.dumps(out))
"""


def _python(envs: Path, name: str, packages: list[str]) -> Path:
    python = envs / name / "bin" / "python"
    if not python.exists():
        venv.create(envs / name, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages], check=True)
    return python


def _dump(python: Path, kind: str) -> dict:
    done = subprocess.run([str(python), "-c", _DUMP, kind], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def registry(runtime: runtimes.Runtime, envs: Path) -> dict:
    core = _dump(_python(envs, f"tf-{runtime.tensorflow}", [f"tensorflow-cpu=={runtime.tensorflow}"]), "core")
    text_tf = TEXT_BUILT_FOR[runtime.tensorflow_text]
    text = _dump(
        _python(envs, f"text-{runtime.tensorflow_text}", [f"tensorflow-cpu=={text_tf}", f"tensorflow-text=={runtime.tensorflow_text}"]),
        "text",
    )
    if core["tensorflow"] != runtime.tensorflow or text["tensorflow_text"] != runtime.tensorflow_text:
        raise SystemExit(f"{runtime.name}: got TensorFlow {core['tensorflow']}, tensorflow-text {text['tensorflow_text']}")
    clash = sorted(set(core["ops"]) & set(text["ops"]))
    if clash:
        raise SystemExit(f"{runtime.name}: tensorflow-text {runtime.tensorflow_text} redefines core ops {clash}")
    return {
        "runtime": runtime.name,
        "tensorflow": runtime.tensorflow,
        "tensorflow_text": runtime.tensorflow_text,
        "ops": {**core["ops"], **text["ops"]},
        "text_ops": sorted(text["ops"]),
    }


def render(data: dict) -> str:
    """Stable bytes: header keys, then one op a line, sorted."""
    ops = data["ops"]
    lines = [
        "{",
        f'  "runtime": {json.dumps(data["runtime"])},',
        f'  "tensorflow": {json.dumps(data["tensorflow"])},',
        f'  "tensorflow_text": {json.dumps(data["tensorflow_text"])},',
        f'  "text_ops": {json.dumps(sorted(data["text_ops"]))},',
        '  "ops": {',
    ]
    names = sorted(ops)
    lines += [f"    {json.dumps(name)}: {json.dumps(sorted(ops[name]))}{',' if i < len(names) - 1 else ''}" for i, name in enumerate(names)]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runtimes", nargs="*", metavar="RUNTIME", help=f"default: all of {', '.join(runtimes.RUNTIMES)}")
    parser.add_argument("--envs", type=Path, default=ROOT / ".build" / "op-registry-envs", help="where the throwaway venvs live")
    args = parser.parse_args()
    for name in args.runtimes or list(runtimes.RUNTIMES):
        runtime = runtimes.get(name)
        data = registry(runtime, args.envs)
        path = runtimes.registry_path(name)
        path.write_text(render(data), encoding="utf-8")
        print(f"{name}: {len(data['ops'])} ops ({len(data['text_ops'])} from tensorflow-text {runtime.tensorflow_text}) -> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
