"""The runtimes that can serve BERT on Vertex AI, and whether a built model's graph fits one.

A runtime is a model server with an op registry: the ops of TensorFlow N plus
the tensorflow-text ops it links. A SavedModel loads there only if every op
type in its graphs and function library is registered, and every attribute a
node sets is one its op declares ("Op type not registered", "NodeDef mentions
attr ... not in Op" otherwise). The registries are data in `op_registries/`,
written by `scripts/op_registry.py` from the pip-installable wheels, so a
verdict needs no TensorFlow (a warm preview imports none).

Importing this module must stay cheap: the Pulumi program reads it on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from bqml_text_embeddings import validate

REGISTRY_DIR = Path(__file__).resolve().parent / "op_registries"


@dataclass(frozen=True)
class Runtime:
    name: str
    server: str  # what serves the model, for messages and the README
    tensorflow: str  # the TensorFlow whose core ops it registers
    tensorflow_text: str  # the tensorflow-text whose ops it links
    prebuilt: bool  # a Vertex AI prebuilt prediction image; else TensorFlow Serving's own image as a custom container
    image: str  # prebuilt: the path under {us,europe,asia}-docker.pkg.dev; else the Docker Hub image
    end_of_availability: date | None  # Google's date after which new resources may be refused; None: not on a schedule
    check_tensorflow_text: str  # the tensorflow-text that loads into `tensorflow` (scripts/check_vertex_image.py)
    # What the tag resolves to, "sha256:<64 hex>", reviewed here. None: a Docker Hub image is pinned at a
    # stack's first `pulumi up` instead (vertex/image_pin.py), a prebuilt one pulled by Google's tag.
    digest: str | None = None

    def __post_init__(self) -> None:
        if self.digest is not None and not validate.DIGEST_RE.fullmatch(self.digest):
            raise ValueError(f"runtime {self.name}: digest {self.digest!r} is not sha256:<64 lowercase hex digits>")

    @property
    def repository(self) -> str:
        """The image without its tag: vertex-ai/prediction/tf2-cpu.2-15, tensorflow/serving."""
        return self.image.rsplit(":", 1)[0]

    @property
    def tag(self) -> str:
        return self.image.rsplit(":", 1)[1]

    @property
    def reference(self) -> str:
        """What to pull: by digest where one is pinned (a tag can be moved to other bytes), else by tag."""
        return f"{self.repository}@{self.digest}" if self.digest else self.image


TF_SERVING = "tf-serving-2.20"
PREBUILT_2_15 = "prebuilt-tf2-cpu.2-15"

RUNTIMES: dict[str, Runtime] = {
    runtime.name: runtime
    for runtime in (
        # TensorFlow Serving 2.20.0 links tensorflow-text 2.20.0 (tensorflow_serving/workspace.bzl at 2.20.0).
        # No `digest` yet: no source reachable offline gave tensorflow/serving:2.20.0's, and none is made up.
        # Each stack pins the tag at its first `pulumi up` (vertex/image_pin.py); to pin it here for
        # every stack, set the top "Digest:" of `docker buildx imagetools inspect tensorflow/serving:2.20.0`
        # (or what `./dev preflight` prints).
        Runtime(
            name=TF_SERVING,
            server="TensorFlow Serving 2.20.0 (tensorflow/serving:2.20.0 as a Vertex AI custom container)",
            tensorflow="2.20.0",
            tensorflow_text="2.20.0",
            prebuilt=False,
            image="tensorflow/serving:2.20.0",
            end_of_availability=None,
            check_tensorflow_text="2.20.0",
        ),
        # Vertex AI's prebuilt image runs TensorFlow Serving 2.15, which links tensorflow-text 2.12.1
        # (workspace.bzl at 2.15.0-2.19.1). Google's support schedule: end of availability 2027-01-14.
        Runtime(
            name=PREBUILT_2_15,
            server="Vertex AI prebuilt prediction image tf2-cpu.2-15 (TensorFlow Serving 2.15)",
            tensorflow="2.15.1",
            tensorflow_text="2.12.1",
            prebuilt=True,
            image="vertex-ai/prediction/tf2-cpu.2-15:latest",
            end_of_availability=date(2027, 1, 14),
            check_tensorflow_text="2.15.0",
        ),
    )
}
DEFAULT = TF_SERVING


class UnknownRuntimeError(KeyError):
    pass


def get(name: str) -> Runtime:
    try:
        return RUNTIMES[name]
    except KeyError:
        raise UnknownRuntimeError(f"unknown runtime {name!r}: choose from {', '.join(RUNTIMES)}") from None


def registry_path(name: str) -> Path:
    return REGISTRY_DIR / f"{name}.json"


@cache
def registry(name: str) -> dict[str, frozenset[str]]:
    """Every op the runtime registers, with its attribute names."""
    data = json.loads(registry_path(name).read_text(encoding="utf-8"))
    return {op: frozenset(attrs) for op, attrs in data["ops"].items()}


def registry_files() -> list[Path]:
    return sorted(REGISTRY_DIR.glob("*.json"))


def problems(requirements: Mapping[str, Iterable[str]], name: str) -> list[str]:
    """What the runtime lacks for a graph that needs `requirements` ({op type: attributes its nodes set})."""
    ops = registry(name)
    absent = sorted(op for op in requirements if op not in ops)
    unknown_attrs = {
        op: sorted(set(attrs) - ops[op]) for op, attrs in sorted(requirements.items()) if op in ops and set(attrs) - ops[op]
    }
    found = []
    if absent:
        found.append(f"op type(s) not registered there: {', '.join(absent)}")
    if unknown_attrs:
        found.append(
            "attribute(s) its ops do not declare there: "
            + "; ".join(f"{op} ({', '.join(attrs)})" for op, attrs in unknown_attrs.items())
        )
    return found


def verdicts(requirements: Mapping[str, Iterable[str]]) -> dict[str, dict[str, Any]]:
    """{runtime: {"ok", "reasons"}} for every runtime."""
    out = {}
    for name in RUNTIMES:
        found = problems(requirements, name)
        out[name] = {"ok": not found, "reasons": found}
    return out


def describe(name: str) -> str:
    runtime = get(name)
    return f"{name} ({runtime.server}: TensorFlow {runtime.tensorflow} ops + tensorflow-text {runtime.tensorflow_text} ops)"


def refusal(model: str, runtime_verdicts: Mapping[str, Mapping[str, Any]], name: str, option: str) -> str | None:
    """None if `name` can serve the model; else why not and the fix (`option`: how the user picks a runtime)."""
    verdict = runtime_verdicts.get(name)
    if verdict is None:
        return f"{model} was built without a verdict for runtime {name}: rebuild it (delete its .build/ entry)"
    if verdict["ok"]:
        return None
    others = [other for other, v in runtime_verdicts.items() if other != name and v["ok"]]
    fix = f"set {option} to {' or '.join(others)}, which has them, or " if others else ""
    return (
        f"{model} cannot be served by runtime {describe(name)}: {'; '.join(verdict['reasons'])}. "
        f"Fix: {fix}build {model} from sources that use only ops that runtime registers "
        "(for BERT, a modelSources.bertPreprocess made with an older tensorflow-text)"
    )
