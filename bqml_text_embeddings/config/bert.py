"""The `bert` section: its endpoint's size, the runtime that serves it, and an image that must be that runtime's."""

from __future__ import annotations

from datetime import date
from typing import Any

from bqml_text_embeddings import locations, validate
from bqml_text_embeddings.build import runtimes
from bqml_text_embeddings.config.keys import BERT
from bqml_text_embeddings.config.problems import Fail
from bqml_text_embeddings.config.rules import ENDPOINT_REGION, PREBUILT_PATH
from bqml_text_embeddings.config.settings import BertSettings
from bqml_text_embeddings.config.unknown import merged


def _today() -> date:
    return date.today()


def prebuilt_image(runtime: runtimes.Runtime, region: str) -> str:
    """Where a prebuilt runtime's own image is pulled from: Google's registry nearest `region`."""
    return f"{locations.serving_image_registry(region)}/{runtime.reference}"


def parse_bert(value: Any, region: str, fail: Fail) -> BertSettings:
    given = merged(value, BERT, fail)
    runtime, runtime_known = _runtime(given["runtime"], fail)
    image = given["servingImage"] or None
    if image is None and runtime.prebuilt:
        image = prebuilt_image(runtime, region)
    if problem := validate.machine_type(given["machineType"]):
        fail("bert.machineType", problem)
    low, problem = BERT["minReplicas"].whole(given["minReplicas"])
    if problem:
        fail("bert.minReplicas", problem)
    high, problem = BERT["maxReplicas"].whole(given["maxReplicas"])
    if problem:
        fail("bert.maxReplicas", problem)
    elif low is not None and high is not None and high < low:
        fail("bert.maxReplicas", f"{high} is below bert.minReplicas ({low})")
    if image is not None and (problem := validate.image(image)):
        fail("bert.servingImage", problem)
    elif image is not None and given["servingImage"] and region and not _servable_from(image, region):
        # Vertex AI takes a model's image only from Artifact Registry, in a repository in the model's
        # region (its prebuilt images excepted).
        fail(
            "bert.servingImage",
            f"{image!r}: Vertex AI takes a model's image only from an Artifact Registry repository in gcp:region: "
            f"give {region}-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE:TAG",
        )
    elif image is not None and runtime_known and (mismatch := _image_mismatch(image, runtime)):
        fail("bert.servingImage", mismatch)
    placement = given["remoteModelLocation"]
    field = BERT["remoteModelLocation"]
    if problem := field.refusal(placement, validate.one_of(placement, field.choices)):
        fail("bert.remoteModelLocation", problem)
        placement = ENDPOINT_REGION
    return BertSettings(
        machine_type=given["machineType"],
        min_replicas=low or 1,
        max_replicas=high or 1,
        runtime=runtime.name,
        serving_image=image,
        remote_model_location=placement,
    )


def _runtime(name: Any, fail: Fail) -> tuple[runtimes.Runtime, bool]:
    """The runtime named, or the default one in its place (and False) when the name is none."""
    field = BERT["runtime"]
    if problem := field.refusal(name, validate.one_of(name, field.choices)):
        fail("bert.runtime", problem)
        return runtimes.get(runtimes.DEFAULT), False
    runtime = runtimes.get(name)
    if runtime.end_of_availability and _today() > runtime.end_of_availability:
        fail(
            "bert.runtime",
            f"{runtime.name} passed Google's end of availability on {runtime.end_of_availability.isoformat()} "
            f"(new models on it may be refused): choose {runtimes.DEFAULT}",
        )
    return runtime, True


def _servable_from(image: str, region: str) -> bool:
    host, _, path = image.partition("/")
    return host == f"{region}-docker.pkg.dev" or (host.endswith("docker.pkg.dev") and path.startswith(PREBUILT_PATH))


def _image_mismatch(image: str, runtime: runtimes.Runtime) -> str | None:
    """Why `image` cannot be what `runtime` describes, if what the image is can be told from its name.

    A runtime decides the op registry BERT is judged by, the container's command and arguments and the
    artifact's layout: an image of another server would pass the check here and fail on the endpoint.
    """
    found = validate.IMAGE_RE.fullmatch(image)
    assert found is not None  # validated before
    host, path, tag = found["host"], found["path"], found["tag"]
    judged = f"{runtime.name} (TensorFlow {runtime.tensorflow} and tensorflow-text {runtime.tensorflow_text} ops)"
    if host.endswith("docker.pkg.dev") and path.startswith(PREBUILT_PATH):
        if runtime.prebuilt and path == runtime.repository:
            return None
        serving = [r.name for r in runtimes.RUNTIMES.values() if r.prebuilt and r.repository == path]
        fix = (
            f"set bert.runtime to {serving[0]} and leave bert.servingImage unset (it takes the image nearest gcp:region)"
            if serving
            else f"no runtime here serves it: leave bert.servingImage unset, or choose a bert.runtime of {list(runtimes.RUNTIMES)}"
        )
        return (
            f"{image!r} is Google's prebuilt image {path.rsplit('/', 1)[1]}, but bert.runtime is {judged}: BERT would be "
            f"judged by that runtime's ops and started as it starts, and fail on the endpoint. Fix: {fix}"
        )
    if path == "tensorflow/serving" or path.endswith("/tensorflow/serving"):
        if runtime.prebuilt:
            return (
                f"{image!r} is TensorFlow Serving's own image, but bert.runtime is {runtime.name}, Google's prebuilt image: "
                f"set bert.runtime to {runtimes.DEFAULT}, or leave bert.servingImage unset"
            )
        if tag is not None and tag != runtime.tag:
            return (
                f"{image!r} is TensorFlow Serving {tag}, but bert.runtime is {judged}: give tensorflow/serving:{runtime.tag}"
            )
    return None
