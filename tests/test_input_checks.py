"""Hostile input: a value with a trailing newline (or other stray whitespace) gets one clear error naming its key.

`$` in a regular expression also matches before a trailing newline, so a check written with it lets
"my-proj-123\\n" through to SQL; every check matches whole strings instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from stack.config import ConfigError, parse
from tests.test_config_corpora import TICKETS

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "my-proj-123"
TOPIC = "projects/my-proj-123/topics/refresh-runs"
HOSTILE = ["\n", "\r", "\t", " ", "\r\n", "\x00"]


def _with_corpus(name: str = "tickets", **changes: object) -> dict:
    return {"models": ["nnlm"], "corpora": {name: {**TICKETS, **changes}}}


# (the key the error names, the config with a bad value `v` in it)
CASES: list[tuple[str, Callable[[str], dict]]] = [
    ("gcp:project", lambda v: {"project": PROJECT + v}),
    ("gcp:region", lambda v: {"region": "us-central1" + v}),
    ("bqml-text-embeddings:location", lambda v: {"location": "US" + v}),
    ("bqml-text-embeddings:dataset", lambda v: {"dataset": "tf_models_tutorial" + v}),
    ("bqml-text-embeddings:models", lambda v: {"models": ["nnlm" + v]}),
    ("bqml-text-embeddings:samplePredictions.table", lambda v: {"samplePredictions": {"table": "bigquery-public-data.imdb.reviews" + v}}),
    ("bqml-text-embeddings:samplePredictions.column", lambda v: {"samplePredictions": {"column": "review" + v}}),
    ("bqml-text-embeddings:textEmbedding.endpoint", lambda v: {"textEmbedding": {"endpoint": "text-embedding-005" + v}}),
    ("bqml-text-embeddings:bert.machineType", lambda v: {"bert": {"machineType": "n1-standard-2" + v}}),
    ("bqml-text-embeddings:bert.runtime", lambda v: {"bert": {"runtime": "tf-serving-2.20" + v}}),
    ("bqml-text-embeddings:bert.servingImage", lambda v: {"bert": {"servingImage": "us-central1-docker.pkg.dev/p/r/tensorflow/serving:2.20.0" + v}}),
    ("bqml-text-embeddings:corpora", lambda v: _with_corpus("tickets" + v)),
    ("bqml-text-embeddings:corpora.tickets.table", lambda v: _with_corpus(table="acme-data.support.tickets" + v)),
    ("bqml-text-embeddings:corpora.tickets.key", lambda v: _with_corpus(key=["ticket_id" + v])),
    ("bqml-text-embeddings:corpora.tickets.text", lambda v: _with_corpus(text="body" + v)),
    ("bqml-text-embeddings:corpora.tickets.notifyTopic", lambda v: _with_corpus(notifyTopic=TOPIC + v)),
]


@pytest.mark.parametrize("suffix", HOSTILE, ids=[repr(s) for s in HOSTILE])
@pytest.mark.parametrize("key, config", CASES, ids=[c[0].split(":")[1] for c in CASES])
def test_a_trailing_newline_or_stray_whitespace_is_one_error_naming_the_key(key: str, config: Callable[[str], dict], suffix: str) -> None:
    raw = {"project": PROJECT, **config(suffix)}
    with pytest.raises(ConfigError) as failure:
        parse(raw)
    lines = str(failure.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[1].startswith(f"  {key}: "), lines[1]
    assert parse({"project": PROJECT, **config("")})  # the same value without it is fine


@pytest.mark.parametrize("prefix", [" ", "\n", "\t"])
def test_leading_whitespace_is_refused_too(prefix: str) -> None:
    for raw in ({"project": prefix + PROJECT}, {"project": PROJECT, "dataset": prefix + "d"}, {"project": PROJECT, **_with_corpus(text=prefix + "body")}):
        with pytest.raises(ConfigError):
            parse(raw)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"gcp:project": PROJECT + "\n"}, "gcp:project: 'my-proj-123\\n' is not a Google Cloud project id"),
        ({"dataset": "tf_models_tutorial\n"}, "bqml-text-embeddings:dataset: 'tf_models_tutorial\\n' is not a BigQuery dataset id"),
        ({"models": ["nnlm"], "corpora": {"tickets\n": TICKETS}}, "bqml-text-embeddings:corpora: 'tickets\\n' is not a corpus name"),
        ({"textEmbedding": {"endpoint": "text-embedding-005\n"}, "models": ["textembedding"]}, "textEmbedding.endpoint: 'text-embedding-005\\n'"),
        ({"models": ["nnlm"], "corpora": {"tickets": {**TICKETS, "schedule": "every 24 hours\n"}}}, "corpora.tickets.schedule: 'every 24 hours\\n'"),
    ],
    ids=["project", "dataset", "corpus", "endpoint", "schedule"],
)
def test_the_program_refuses_them_before_declaring_anything(base_config: dict, overrides: dict, message: str) -> None:
    from tests import pulumi_harness
    from tests.pulumi_harness import run_program

    seen: list[str] = []
    original = pulumi_harness._RecordingMonitor.RegisterResource
    pulumi_harness._RecordingMonitor.RegisterResource = lambda self, request: seen.append(request.type) or original(self, request)
    try:
        with pytest.raises(pulumi.RunError) as failure:
            run_program({**base_config, **overrides})
    finally:
        pulumi_harness._RecordingMonitor.RegisterResource = original
    assert message in str(failure.value)
    assert "Traceback" not in str(failure.value) and "UnsafeSqlParameter" not in str(failure.value)
    assert [t for t in seen if t != "pulumi:pulumi:Stack"] == []


def test_no_check_in_the_product_anchors_with_dollar_or_matches_only_a_prefix() -> None:
    """`re.match` or a pattern's `.match` with `...$` is how a newline walked through; `fullmatch` is the rule."""
    offenders = []
    for folder in ("bqml_text_embeddings", "stack", "policy", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(r"\b(re|[A-Z_]+)\.match\(|\$\"\)|\$'\)|\$\"$", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
