"""BERT's image and its runtime agree, and the runtime's image can be pinned by digest."""

from __future__ import annotations

import dataclasses

import pulumi
import pytest

from bqml_text_embeddings.build import runtimes
from stack import config
from stack.config import ConfigError, parse

PREBUILT_IMAGE = "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest"
MIRROR = "us-central1-docker.pkg.dev/my-proj-123/serving/tensorflow/serving"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _bert(**bert: object) -> config.BertSettings:
    return parse({"project": "my-proj-123", "bert": bert}).bert


def _error(**bert: object) -> str:
    with pytest.raises(ConfigError) as failure:
        _bert(**bert)
    lines = str(failure.value).splitlines()
    assert len(lines) == 2, lines
    return lines[1]


def test_googles_prebuilt_image_with_the_tf_serving_runtime_is_refused_naming_both_keys() -> None:
    line = _error(servingImage=PREBUILT_IMAGE)
    assert line == (
        f"  bqml-text-embeddings:bert.servingImage: {PREBUILT_IMAGE!r} is Google's prebuilt image tf2-cpu.2-15, but bert.runtime is "
        "tf-serving-2.20 (TensorFlow 2.20.0 and tensorflow-text 2.20.0 ops): BERT would be judged by that runtime's ops and "
        "started as it starts, and fail on the endpoint. Fix: set bert.runtime to prebuilt-tf2-cpu.2-15 and leave "
        "bert.servingImage unset (it takes the image nearest gcp:region)"
    )
    # With the runtime that is that image, it is accepted as given (any of Google's hosts).
    assert _bert(servingImage=PREBUILT_IMAGE, runtime=runtimes.PREBUILT_2_15).serving_image == PREBUILT_IMAGE


@pytest.mark.parametrize(
    "bert, message",
    [
        (
            {"servingImage": "europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-14:latest", "runtime": runtimes.PREBUILT_2_15},
            "is Google's prebuilt image tf2-cpu.2-14, but bert.runtime is prebuilt-tf2-cpu.2-15 (TensorFlow 2.15.1 and "
            "tensorflow-text 2.12.1 ops): BERT would be judged by that runtime's ops and started as it starts, and fail on the "
            "endpoint. Fix: no runtime here serves it",
        ),
        ({"servingImage": "us-docker.pkg.dev/vertex-ai/prediction/tf2-gpu.2-15:latest"}, "is Google's prebuilt image tf2-gpu.2-15"),
        (
            {"servingImage": f"{MIRROR}:2.15.0"},
            f"bert.servingImage: '{MIRROR}:2.15.0' is TensorFlow Serving 2.15.0, but bert.runtime is tf-serving-2.20 "
            "(TensorFlow 2.20.0 and tensorflow-text 2.20.0 ops): give tensorflow/serving:2.20.0",
        ),
        ({"servingImage": f"{MIRROR}:latest"}, "is TensorFlow Serving latest, but bert.runtime is tf-serving-2.20"),
        (
            {"servingImage": f"{MIRROR}:2.20.0", "runtime": runtimes.PREBUILT_2_15},
            f"bert.servingImage: '{MIRROR}:2.20.0' is TensorFlow Serving's own image, but bert.runtime is prebuilt-tf2-cpu.2-15, "
            "Google's prebuilt image: set bert.runtime to tf-serving-2.20, or leave bert.servingImage unset",
        ),
        ({"servingImage": f"{MIRROR}@sha256:abc"}, "is not a container image URI"),
        ({"servingImage": f"{MIRROR}:2.20.0\n"}, "is not a container image URI"),
    ],
)
def test_an_image_that_is_not_what_the_runtime_judges_is_refused(bert: dict, message: str) -> None:
    line = _error(**bert)
    assert line.startswith("  bqml-text-embeddings:bert.servingImage: ") and message in line


@pytest.mark.parametrize("image", [f"{MIRROR}:2.20.0", f"{MIRROR}:2.20.0@{DIGEST}", f"{MIRROR}@{DIGEST}", "us-central1-docker.pkg.dev/p/r/my-server:1"])
def test_a_mirror_of_the_runtimes_image_by_tag_or_digest_or_an_image_it_cannot_judge_is_accepted(image: str) -> None:
    assert _bert(servingImage=image).serving_image == image


def test_a_runtime_pulls_by_digest_once_one_is_pinned_and_refuses_a_malformed_one() -> None:
    tf_serving = runtimes.get(runtimes.TF_SERVING)
    assert (tf_serving.repository, tf_serving.tag) == ("tensorflow/serving", "2.20.0")
    pinned = dataclasses.replace(tf_serving, digest=DIGEST)
    assert pinned.reference == f"tensorflow/serving@{DIGEST}"
    assert dataclasses.replace(tf_serving, digest=None).reference == "tensorflow/serving:2.20.0"
    for bad in ("sha256:abc", DIGEST.upper(), DIGEST.replace("sha256", "sha512"), DIGEST + "\n"):
        with pytest.raises(ValueError, match="is not sha256:<64 lowercase hex digits>"):
            dataclasses.replace(tf_serving, digest=bad)


def test_the_pinned_digest_reaches_the_model_upload(base_config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pulumi_harness import run_program

    pinned = dataclasses.replace(runtimes.get(runtimes.TF_SERVING), digest=DIGEST)
    monkeypatch.setitem(runtimes.RUNTIMES, runtimes.TF_SERVING, pinned)
    run = run_program({**base_config, "models": ["bert"]})
    container = run.named("bert-registry-model").inputs["container"]
    assert container["image_uri"] == f"us-central1-docker.pkg.dev/my-proj-123/bqml-te-dev/tensorflow/serving@{DIGEST}"
    assert container["command"] == ["/usr/bin/tensorflow_model_server"]
    assert [d.name for d in run.declared.values() if "image" in d.inputs] == [], "pinned in the code: nothing to pin at deploy"


def test_the_program_refuses_the_mismatch_before_declaring_anything(base_config: dict) -> None:
    from tests import pulumi_harness
    from tests.pulumi_harness import run_program

    seen: list[str] = []
    original = pulumi_harness._RecordingMonitor.RegisterResource
    pulumi_harness._RecordingMonitor.RegisterResource = lambda self, request: seen.append(request.type) or original(self, request)
    try:
        with pytest.raises(pulumi.RunError) as failure:
            run_program({**base_config, "models": ["bert"], "bert": {"servingImage": PREBUILT_IMAGE}})
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    assert "bert.servingImage" in str(failure.value) and "set bert.runtime to prebuilt-tf2-cpu.2-15" in str(failure.value)
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []
