"""A misspelled key in our namespace is refused, naming it and the nearest known one, before anything is declared."""

from __future__ import annotations

import pulumi
import pytest

from stack.config import ConfigError, parse
from tests.pulumi_harness import run_program

NS = "bqml-text-embeddings"


@pytest.mark.parametrize(
    "key, message",
    [
        (f"{NS}:modles", f"{NS}:modles: unknown key; did you mean models?"),
        (f"{NS}:samplePrediction", f"{NS}:samplePrediction: unknown key; did you mean samplePredictions?"),
        (f"{NS}:Corpora", f"{NS}:Corpora: unknown key; did you mean corpora?"),
        (f"{NS}:region", f"{NS}:region: unknown key; set gcp:region instead"),
        (f"{NS}:xyzzy", f"{NS}:xyzzy: unknown key; the keys are ['bert', 'buildDir'"),
    ],
)
def test_an_unknown_key_of_ours_is_refused_with_the_nearest_known_one(key: str, message: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse({"project": "my-proj-123"}, configured=[key, "gcp:project", "gcp:region", "time:anything"])
    lines = str(failure.value).splitlines()
    assert len(lines) == 2 and message in lines[1], lines


def test_every_known_key_and_other_namespaces_pass() -> None:
    known = ["location", "dataset", "models", "modelSources", "buildDir", "buildJobs", "samplePredictions", "bert",
             "textEmbedding", "evaluation", "corpora"]
    parse({"project": "my-proj-123"}, configured=[f"{NS}:{k}" for k in known] + ["gcp:project", "gcp:zone", "aws:region"])


@pytest.mark.parametrize(
    "value, message",
    [
        ({"bert": {"minReplica": 2}}, f"{NS}:bert.minReplica: unknown key; did you mean minReplicas?"),
        ({"samplePredictions": {"row": 10}}, f"{NS}:samplePredictions.row: unknown key; did you mean rows?"),
        ({"textEmbedding": {"endpont": "x"}}, f"{NS}:textEmbedding.endpont: unknown key; did you mean endpoint?"),
        ({"corpora": {"t": {"table": "a-proj.d.t", "key": ["id"], "text": "b", "models": ["nnlm"], "schedule": "none", "maxAttempt": 2}}},
         f"{NS}:corpora.t.maxAttempt: unknown key; did you mean maxAttempts?"),
    ],
)
def test_a_misspelled_key_inside_an_object_is_refused_too(value: dict, message: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse({"project": "my-proj-123", **value})
    assert message in str(failure.value)


def test_the_program_refuses_a_misspelled_key_and_declares_nothing() -> None:
    with pytest.raises(pulumi.RunError) as failure:
        run_program({"gcp:project": "my-proj-123", "modles": ["bert"], "samplePredictions": {"rows": 0}})
    assert f"{NS}:modles: unknown key; did you mean models?" in str(failure.value)
