"""The shared checks: each takes the good values and refuses the bad ones with the fix, never the key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bqml_text_embeddings import validate

# (check, good values, (bad value, the message it gets)...)
CASES: list[tuple[Callable[[Any], str | None], list[Any], list[tuple[Any, str]]]] = [
    (
        validate.project_id,
        ["my-proj-123", "abcdef", "example.com:my-proj", "a" + "b" * 28 + "c"],
        [
            ("My_Project", "'My_Project' is not a Google Cloud project id (6-30 lowercase letters, digits, hyphens)"),
            ("abcde", "'abcde' is not a Google Cloud project id"),
            ("a" + "b" * 29 + "c", "is not a Google Cloud project id"),
            ("1project", "'1project' is not"),
            ("my-proj-", "'my-proj-' is not"),
            (None, "None is not a Google Cloud project id"),
        ],
    ),
    (
        validate.dataset_id,
        ["tf_models_tutorial", "D1", "x" * 1024],
        [
            ("tf-models", "'tf-models' is not a BigQuery dataset id: 1-1024 letters, digits or underscores"),
            ("", "'' is not a BigQuery dataset id"),
            ("x" * 1025, "is not a BigQuery dataset id"),
            (7, "7 is not a BigQuery dataset id"),
        ],
    ),
    (
        validate.table_ref,
        ["bigquery-public-data.imdb.reviews", "acme-data.support.tickets", "my-proj-123.d.t-1"],
        [
            ("support.tickets", "'support.tickets': give a table as project.dataset.table"),
            ("a.b.c.d", "'a.b.c.d': give a table as project.dataset.table"),
            ("acme-data.sup-port.tickets", "give a table as project.dataset.table"),
            ("acme-data.support.tick`ets", "give a table as project.dataset.table"),
            ("Acme.support.tickets", "give a table as"),
            (["a", "b", "c"], "give a table as"),
        ],
    ),
    (
        validate.column,
        ["review", "_x", "Updated_At2", "a" * 300],
        [
            ("updated at", "'updated at' is not a plain column name (letters, digits, underscores)"),
            ("2x", "'2x' is not a plain column name"),
            ("a" * 301, "is not a plain column name"),
            ("", "'' is not a plain column name"),
            (["id"], "['id'] is not a plain column name"),
        ],
    ),
    (
        validate.columns,
        [["ticket_id"], ["site", "id"]],
        [
            ("ticket_id", "'ticket_id': give a non-empty list of column names (letters, digits, underscores)"),
            ([], "[]: give a non-empty list of column names"),
            (["id", "id; DROP"], "['id', 'id; DROP']: give a non-empty list of column names"),
            (["id", "id"], "['id', 'id'] names a column twice"),
        ],
    ),
    (
        validate.region,
        ["us-central1", "europe-west4", "me-central2"],
        [
            ("us central", "'us central' is not a Google Cloud region such as us-central1"),
            ("US", "'US' is not a Google Cloud region"),
            ("us-central", "'us-central' is not"),
        ],
    ),
    (
        validate.location,
        ["US", "eu", "us-central1", "EUROPE-WEST4"],
        [
            ("mars-north1", "'mars-north1' is not a BigQuery location: use US, EU or a region such as us-central1"),
            ("USA", "'USA' is not a BigQuery location"),
            (None, "None is not a BigQuery location"),
        ],
    ),
    (
        validate.machine_type,
        ["n1-standard-2", "e2-highmem-16", "a2-ultragpu-1g"],
        [
            ("", "'': give a Compute Engine machine type such as n1-standard-2"),
            ("n1_standard_2", "'n1_standard_2': give a Compute Engine machine type"),
            ("standard", "'standard': give"),
        ],
    ),
    (
        validate.endpoint_name,
        ["text-embedding-005", "gemini-embedding-001", "textembedding-gecko@003", "text-multilingual-embedding-002"],
        [
            ("https://example.com/x", "'https://example.com/x': give a Vertex AI embedding model id such as text-embedding-005 or gemini-embedding-001"),
            ("text-embedding-005'); DROP MODEL x; --", "give a Vertex AI embedding model id"),
            ("textembedding-gecko@3", "give a Vertex AI embedding model id"),
            ("Text-Embedding", "give a Vertex AI embedding model id"),
        ],
    ),
    (
        validate.corpus_name,
        ["tickets", "kb_articles", "t", "t" * 30],
        [
            ("Tickets", "'Tickets' is not a corpus name: 1-30 lowercase letters, digits and underscores, starting with a letter"),
            ("tickets_", "'tickets_' is not a corpus name"),
            ("t" * 31, "is not a corpus name"),
            ("tick-ets", "is not a corpus name"),
        ],
    ),
    (
        validate.pubsub_topic,
        ["projects/my-proj-123/topics/refresh-runs", "projects/my-proj-123/topics/a.b~c%d+e"],
        [
            ("refresh-runs", "'refresh-runs': give a Pub/Sub topic as projects/PROJECT/topics/TOPIC"),
            ("projects/my-proj-123/topics/go", "give a Pub/Sub topic"),  # a topic name has 3 to 255 characters
            ("projects/my-proj-123/subscriptions/refresh-runs", "give a Pub/Sub topic"),
        ],
    ),
    (
        validate.image,
        [
            "us-central1-docker.pkg.dev/p/r/tensorflow/serving:2.20.0",
            "us-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest",
            "localhost:5000/img@sha256:" + "0" * 64,
            "us-central1-docker.pkg.dev/p/r/img:2.20.0@sha256:" + "ab" * 32,
        ],
        [
            ("not an image", "'not an image' is not a container image URI"),
            ("us-central1-docker.pkg.dev/p/r/img", "is not a container image URI"),  # neither a tag nor a digest
            ("us-central1-docker.pkg.dev/p/r/img@sha256:abc", "is not a container image URI"),
        ],
    ),
    (
        validate.boolean,
        [True, False],
        [("yes", "'yes': give true or false"), (1, "1: give true or false"), (None, "None: give true or false")],
    ),
]


@pytest.mark.parametrize("check, good, bad", CASES, ids=[c[0].__name__ for c in CASES])
def test_each_check_takes_good_values_and_names_the_fix_for_bad_ones(check: Callable[[Any], str | None], good: list, bad: list) -> None:
    for value in good:
        assert check(value) is None, value
    for value, message in bad:
        problem = check(value)
        assert problem is not None and message in problem, (value, problem)
        assert not problem.startswith("bqml-text-embeddings:"), problem  # the caller names the key


@pytest.mark.parametrize("check", [c[0] for c in CASES if c[0] is not validate.boolean], ids=[c[0].__name__ for c in CASES if c[0] is not validate.boolean])
@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t", "\x00"])
def test_a_good_value_with_a_trailing_newline_or_whitespace_is_refused(check: Callable[[Any], str | None], suffix: str) -> None:
    good = next(c[1][0] for c in CASES if c[0] is check)
    spoiled = [good[0] + suffix, *good[1:]] if isinstance(good, list) else good + suffix
    assert check(spoiled) is not None


def test_whole_numbers_between_bounds_also_as_the_strings_config_set_path_stores() -> None:
    assert validate.whole(1, 1, 10) is None and validate.whole("10", 1, 10) is None and validate.whole(" 3 ", 1, 10) is None
    assert validate.whole(10**9, 0) is None  # no upper bound
    assert validate.whole(0, 1, 10) == "0: give a whole number from 1 to 10"
    assert validate.whole(11, 1, 10) == "11: give a whole number from 1 to 10"
    assert validate.whole(2_000_000, 0, 1_000_000) == "2000000: give a whole number from 0 to 1,000,000"
    assert validate.whole(-1, 0) == "-1: give a whole number of at least 0"
    for bad in (True, False, 2.5, 2.0, "two", "1e3", "", None, [1]):
        assert validate.whole(bad, 0, 10) is not None, bad


def test_as_int_reads_whole_numbers_and_nothing_else() -> None:
    assert [validate.as_int(v) for v in (0, -3, "42", " 7 ", "-2")] == [0, -3, 42, 7, -2]
    assert [validate.as_int(v) for v in (True, False, 2.0, "2.5", "x", "", None, "4\n2")] == [None] * 8


def test_one_of_compares_values_of_the_same_type_and_refuses_unhashable_ones() -> None:
    assert validate.one_of("IVF", ("IVF", "TREE_AH", "none")) is None
    assert validate.one_of("HNSW", ("IVF", "TREE_AH", "none")) == "'HNSW': give one of ['IVF', 'TREE_AH', 'none']"
    assert validate.one_of("ivf", ("IVF",)) is not None
    assert validate.one_of(True, (1, 2)) is not None
    assert validate.one_of(["IVF"], ("IVF",)) == "['IVF']: give one of ['IVF']"
    assert validate.one_of({"a": 1}, ("a",)) is not None


def test_normalize_location_spells_it_as_bigquery_does() -> None:
    assert [validate.normalize_location(v) for v in ("us", "Eu", "US-CENTRAL1", "asia-northeast3")] == ["US", "EU", "us-central1", "asia-northeast3"]
    assert [validate.normalize_location(v) for v in ("mars-north1", "US\n", None, 3)] == [None] * 4


def test_a_model_list_is_non_empty_drawn_from_the_choices_and_names_each_once() -> None:
    choices = ("nnlm", "swivel", "bert")
    assert validate.model_list(["bert", "nnlm"], choices) is None
    assert validate.model_list([], choices) == "[]: give a non-empty list drawn from ['nnlm', 'swivel', 'bert']"
    assert validate.model_list("nnlm", choices) == "'nnlm': give a non-empty list drawn from ['nnlm', 'swivel', 'bert']"
    assert validate.model_list(["nnlm", 3], choices) is not None
    assert validate.model_list(["nnlm", "elmo"], choices) == "unknown model(s) ['elmo']: choose from ['nnlm', 'swivel', 'bert']"
    assert validate.model_list(["nnlm", "nnlm"], choices) == "['nnlm', 'nnlm'] names a model twice"


def test_listed_and_repeated() -> None:
    assert validate.listed(["a", "b"], validate.column) and not validate.listed([], validate.column)
    assert not validate.listed(("a",), validate.column) and not validate.listed(["a", "b c"], validate.column)
    assert validate.repeated(["a", "b"], "a column") is None
    assert validate.repeated(["a", "b", "a"], "a column") == "['a', 'b', 'a'] names a column twice"


def test_text_is_any_non_blank_string() -> None:
    assert validate.text(".build") is None and validate.text("https://tfhub.dev/x") is None
    assert [validate.text(v) is not None for v in ("", "  ", None, 3)] == [True] * 4


@pytest.mark.parametrize(
    "value, normalized",
    [("every 24 hours", "every 24 hours"), ("  Every Mon,Thu   09:00 ", "every mon,thu 09:00"), ("none", None), (" None ", None)],
)
def test_a_schedule_comes_back_as_bigquery_is_sent_it_and_none_means_by_hand(value: str, normalized: str | None) -> None:
    assert validate.schedule(value) == (normalized, None)


@pytest.mark.parametrize(
    "value, message",
    [
        ("daily", "'daily' is not BigQuery's schedule syntax: 'daily' is not how a schedule starts"),
        ("every 24 hours\n", "'every 24 hours\\n' is not BigQuery's schedule syntax: '\\n' does not belong in a schedule"),
        ("every 4 minutes", "'every 4 minutes': BigQuery runs a scheduled query at most every 5 minutes"),
        ("", "'': give BigQuery's schedule syntax"),
        (24, "24: give BigQuery's schedule syntax"),
    ],
)
def test_a_bad_schedule_is_no_schedule_and_the_reason(value: Any, message: str) -> None:
    normalized, problem = validate.schedule(value)
    assert normalized is None and problem is not None and problem.startswith(message), problem
    if "syntax:" in problem or not isinstance(value, str) or not value:
        assert problem.endswith(validate.SCHEDULE_FIX)
