"""Can BigQuery, or a Vertex AI endpoint, serve this SavedModel? A verdict per target.

BigQuery's rules for imported TensorFlow models (CREATE MODEL ...
model_type='TENSORFLOW', docs `bigqueryml-syntax-create-tensorflow`): a
SavedModel of at most 450 MB, GraphDef version 20 or later, only core
TensorFlow ops (no custom ops such as tensorflow_text's: that is why BERT goes
to Vertex AI), dense inputs and outputs. Both targets need the text-embedding
signature: `serving_default`, one string input `content` of shape [None], one
float output of shape [None, dims].
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bqml_text_embeddings.build.catalog import Target

BIGQUERY_MAX_BYTES = 450 * 1000 * 1000  # decimal MB: the stricter reading of "450 MB"
MIN_GRAPHDEF_PRODUCER = 20
SIGNATURE = "serving_default"
INPUT_NAME = "content"
SERVE_TAG = "serve"


@dataclass(frozen=True)
class Inspection:
    signature: dict[str, Any] | None  # {"inputs": {...}, "outputs": {...}} or None if missing
    ops: frozenset[str]
    producer: int
    # What a model server must register to load the graphs: every op type of every node, in
    # every meta graph and its function library, with the attributes those nodes set.
    requirements: dict[str, frozenset[str]] = field(default_factory=dict)


def inspect(model_dir: Path) -> Inspection:
    """Reads the signature, ops and GraphDef version from saved_model.pb."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((Path(model_dir) / "saved_model.pb").read_bytes())
    return inspect_proto(saved)


def inspect_proto(saved: Any) -> Inspection:
    """The signature, ops and GraphDef version of a parsed SavedModel proto."""
    from tensorflow.core.framework import types_pb2

    graphs = [g for g in saved.meta_graphs if SERVE_TAG in g.meta_info_def.tags] or list(saved.meta_graphs)
    graph = graphs[0]
    functions = {f.signature.name for f in graph.graph_def.library.function}
    ops = {node.op for node in graph.graph_def.node}
    for function in graph.graph_def.library.function:
        ops.update(node.op for node in function.node_def)
    signature = None
    if SIGNATURE in graph.signature_def:
        sig = graph.signature_def[SIGNATURE]

        def describe(infos: Any) -> dict[str, Any]:
            return {
                name: {
                    "dtype": types_pb2.DataType.Name(info.dtype).removeprefix("DT_").lower(),
                    "shape": None if info.tensor_shape.unknown_rank else [d.size for d in info.tensor_shape.dim],
                    "sparse_or_ragged": info.WhichOneof("encoding") != "name",
                }
                for name, info in sorted(infos.items())
            }

        signature = {"inputs": describe(sig.inputs), "outputs": describe(sig.outputs)}
    return Inspection(signature, frozenset(ops - functions), graph.graph_def.versions.producer, op_requirements(saved))


def op_requirements(saved: Any) -> dict[str, frozenset[str]]:
    """{op type: attribute names} over every node of every meta graph and function body.

    A call of a library function is not an op; attributes whose names start with
    an underscore are the runtime's own annotations, which op registries do not declare.
    """
    needed: dict[str, set[str]] = {}
    for meta in saved.meta_graphs:
        library = meta.graph_def.library
        functions = {f.signature.name for f in library.function}
        nodes = [*meta.graph_def.node, *(node for f in library.function for node in f.node_def)]
        for node in nodes:
            if node.op in functions:
                continue
            needed.setdefault(node.op, set()).update(a for a in node.attr if not a.startswith("_"))
    return {op: frozenset(attrs) for op, attrs in sorted(needed.items())}


CORE_OPS_DIR = "core-ops"


@lru_cache(maxsize=1)
def core_ops(cache_dir: Path | None = None) -> frozenset[str]:
    """The ops a bare `import tensorflow` registers, computed once per TensorFlow version.

    While TensorFlow is not yet imported, this process can import it and read
    its op registry before anything (tensorflow_text, whose ops BigQuery does
    not have) adds to it: a few milliseconds, so call this first. Later the
    registry may hold more, so the set comes from `cache_dir`, or else from a
    fresh interpreter (seconds), and is kept there for next time.
    """
    if "tensorflow" not in sys.modules:
        import tensorflow as tf

        ops = _registered_ops()
        _keep(cache_dir, tf.__version__, ops)
        return ops
    import tensorflow as tf

    kept = _kept(cache_dir, tf.__version__)
    if kept is not None:
        return kept
    ops = _ops_of_fresh_interpreter()
    _keep(cache_dir, tf.__version__, ops)
    return ops


def _registered_ops() -> frozenset[str]:
    from tensorflow.core.framework import op_def_pb2
    from tensorflow.python.client import pywrap_tf_session as c

    ops = op_def_pb2.OpList()
    ops.ParseFromString(c.TF_GetBuffer(c.TF_GetAllOpList()))
    return frozenset(o.name for o in ops.op)


def _ops_of_fresh_interpreter() -> frozenset[str]:
    script = (
        "import json\n"
        "from bqml_text_embeddings.build.check import _registered_ops\n"
        "print(json.dumps(sorted(_registered_ops())))\n"
    )
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
    )
    return frozenset(json.loads(result.stdout.strip().splitlines()[-1]))


def _kept_path(cache_dir: Path, version: str) -> Path:
    return Path(cache_dir) / CORE_OPS_DIR / f"tensorflow-{version}-{platform.machine()}.json"


def _kept(cache_dir: Path | None, version: str) -> frozenset[str] | None:
    if cache_dir is None:
        return None
    try:
        ops = json.loads(_kept_path(cache_dir, version).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return frozenset(ops) if isinstance(ops, list) and ops else None


def _keep(cache_dir: Path | None, version: str, ops: frozenset[str]) -> None:
    if cache_dir is None:
        return
    path = _kept_path(cache_dir, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(sorted(ops)), encoding="utf-8")
    os.replace(tmp, path)  # atomic: concurrent builds may write the same file


def signature_problems(signature: dict[str, Any] | None, dims: int) -> list[str]:
    if signature is None:
        return [f"no {SIGNATURE!r} signature"]
    problems = []
    inputs, outputs = signature["inputs"], signature["outputs"]
    if list(inputs) != [INPUT_NAME]:
        problems.append(f"inputs are {sorted(inputs)}, expected exactly [{INPUT_NAME!r}]")
    else:
        spec = inputs[INPUT_NAME]
        if spec["dtype"] != "string" or spec["shape"] != [-1] or spec["sparse_or_ragged"]:
            problems.append(f"input {INPUT_NAME!r} is {_show(spec)}, expected dense string [None]")
    if len(outputs) != 1:
        problems.append(f"outputs are {sorted(outputs)}, expected exactly one")
    else:
        ((name, spec),) = outputs.items()
        if not spec["dtype"].startswith(("float", "half", "bfloat")) or spec["shape"] != [-1, dims] or spec["sparse_or_ragged"]:
            problems.append(f"output {name!r} is {_show(spec)}, expected dense float [None, {dims}]")
    return problems


def _show(spec: dict[str, Any]) -> str:
    shape = "unknown rank" if spec["shape"] is None else "[" + ", ".join("None" if d < 0 else str(d) for d in spec["shape"]) + "]"
    return f"{'ragged/sparse ' if spec['sparse_or_ragged'] else ''}{spec['dtype']} {shape}"


def verdicts(inspection: Inspection, dims: int, total_size: int, core: frozenset[str]) -> dict[str, dict[str, Any]]:
    """{target: {"ok": bool, "reasons": [...], "notes": [...]}} for both targets."""
    shared = signature_problems(inspection.signature, dims)
    foreign = sorted(inspection.ops - core)

    bigquery = list(shared)
    if total_size > BIGQUERY_MAX_BYTES:
        bigquery.append(f"size {total_size:,} bytes exceeds BigQuery's {BIGQUERY_MAX_BYTES:,}-byte limit for imported TensorFlow models")
    if inspection.producer < MIN_GRAPHDEF_PRODUCER:
        bigquery.append(f"GraphDef version {inspection.producer} is below the {MIN_GRAPHDEF_PRODUCER} BigQuery requires")
    if foreign:
        bigquery.append(f"uses ops outside core TensorFlow, which BigQuery cannot run: {', '.join(foreign)}")

    vertex_notes = []
    if foreign:
        vertex_notes.append(
            f"uses ops outside core TensorFlow ({', '.join(foreign)}): a runtime serves them only if it "
            "links them (the runtime verdicts say which does)"
        )
    return {
        Target.BIGQUERY.value: {"ok": not bigquery, "reasons": bigquery, "notes": []},
        Target.VERTEX.value: {"ok": not shared, "reasons": list(shared), "notes": vertex_notes},
    }


def format_verdicts(
    results: dict[str, dict[str, Any]],
    own_target: str,
    runtime_verdicts: dict[str, dict[str, Any]] | None = None,
    runtime: str | None = None,
) -> str:
    """The per-target verdicts, then (for a Vertex AI model) one per serving runtime."""
    lines = []
    for target, verdict in results.items():
        mark = "ok" if verdict["ok"] else "FAIL"
        own = " (this model's target)" if target == own_target else ""
        lines.append(f"{target}{own}: {mark}")
        lines.extend(f"  - {reason}" for reason in verdict["reasons"])
        lines.extend(f"  note: {note}" for note in verdict.get("notes", []))
    for name, verdict in (runtime_verdicts or {}).items():
        chosen = " (the chosen runtime)" if name == runtime else ""
        lines.append(f"vertex runtime {name}{chosen}: {'ok' if verdict['ok'] else 'FAIL'}")
        lines.extend(f"  - {reason}" for reason in verdict["reasons"])
    return "\n".join(lines)
