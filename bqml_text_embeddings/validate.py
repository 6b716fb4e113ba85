"""Checks of values that reach SQL, resource names or API fields: small, pure, shared.

Each returns None for a good value, or what is wrong with it and the fix, WITHOUT the key: the
caller names it (`corpora.tickets.table: 'support.tickets': give a table as project.dataset.table`).
The stack's configuration and the components' Args use the same checks. Every pattern matches the
whole string (`fullmatch`: `$` would also match before a trailing newline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bqml_text_embeddings import locations
from bqml_text_embeddings import schedule as groc

# Google's documented forms. Project: 6-30 of [a-z0-9-], starting with a letter (plus the legacy
# domain-scoped "example.com:name" form).
PROJECT_RE = re.compile(r"(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
MAX_DATASET_ID = 1024
DATASET_RE = re.compile(r"[A-Za-z0-9_]{1,1024}")
TABLE_RE = re.compile(r"[A-Za-z0-9_-]{1,1024}")
COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
REGION_RE = re.compile(r"[a-z]+-[a-z]+[0-9]+")
MACHINE_TYPE_RE = re.compile(r"[a-z][a-z0-9]*-[a-z0-9-]+")
# A Vertex AI publisher model id: text-embedding-005, gemini-embedding-001, textembedding-gecko@003.
ENDPOINT_NAME_RE = re.compile(r"[a-z][a-z0-9.-]{0,126}[a-z0-9](?:@[0-9]{3})?")
# A corpus name becomes part of table, routine and resource names.
CORPUS_NAME_RE = re.compile(r"[a-z](?:[a-z0-9_]{0,28}[a-z0-9])?")
PUBSUB_TOPIC_RE = re.compile(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}")
# A content digest, as registries name a manifest.
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
# An image by tag, by digest, or both (Docker's grammar: the digest decides what is pulled).
IMAGE_RE = re.compile(
    r"(?P<host>[a-z0-9.-]+(?::[0-9]+)?)/(?P<path>[A-Za-z0-9._/-]+)"
    rf"(?=[:@])(?::(?P<tag>[A-Za-z0-9._-]+))?(?:@(?P<digest>{DIGEST_RE.pattern}))?"
)
SCHEDULE_FIX = 'give BigQuery\'s schedule syntax such as "every 24 hours", or "none" to refresh only by hand'

Check = Callable[[Any], str | None]


def _whole_string(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def project_id(value: Any) -> str | None:
    if _whole_string(PROJECT_RE, value):
        return None
    return f"{value!r} is not a Google Cloud project id (6-30 lowercase letters, digits, hyphens)"


def dataset_id(value: Any) -> str | None:
    if _whole_string(DATASET_RE, value):
        return None
    return f"{value!r} is not a BigQuery dataset id: 1-{MAX_DATASET_ID} letters, digits or underscores"


def table_ref(value: Any) -> str | None:
    """project.dataset.table, each part as BigQuery names it."""
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) == 3 and all(_whole_string(p, v) for p, v in zip((PROJECT_RE, DATASET_RE, TABLE_RE), parts, strict=True)):
        return None
    return f"{value!r}: give a table as project.dataset.table"


def column(value: Any) -> str | None:
    if _whole_string(COLUMN_RE, value):
        return None
    return f"{value!r} is not a plain column name (letters, digits, underscores)"


def listed(value: Any, check: Check) -> bool:
    """A non-empty list whose every item passes `check`."""
    return isinstance(value, list) and bool(value) and all(check(item) is None for item in value)


def repeated(values: Sequence[Any], what: str) -> str | None:
    """`what` named twice: ['id', 'id'] names a column twice."""
    return f"{values!r} names {what} twice" if len(set(values)) != len(values) else None


def columns(value: Any) -> str | None:
    """A non-empty list of distinct column names (a single string is not one: wrap it first)."""
    if not listed(value, column):
        return f"{value!r}: give a non-empty list of column names (letters, digits, underscores)"
    return repeated(value, "a column")


def text(value: Any) -> str | None:
    """Any string but an empty or blank one."""
    return None if isinstance(value, str) and value.strip() else f"{value!r}: give a non-empty text"


def model_list(value: Any, choices: Iterable[str]) -> str | None:
    """A non-empty list of distinct names drawn from `choices`."""
    allowed = list(choices)
    if not listed(value, lambda item: None if isinstance(item, str) else "not a name"):
        return f"{value!r}: give a non-empty list drawn from {allowed}"
    unknown = [m for m in value if m not in allowed]
    if unknown:
        return f"unknown model(s) {unknown}: choose from {allowed}"
    return repeated(value, "a model")


def region(value: Any) -> str | None:
    if _whole_string(REGION_RE, value):
        return None
    return f"{value!r} is not a Google Cloud region such as us-central1"


def normalize_location(value: Any) -> str | None:
    """A BigQuery location as BigQuery spells it (US, EU, us-central1), or None if it is none."""
    return locations.normalize(value) if isinstance(value, str) else None


def location(value: Any) -> str | None:
    if normalize_location(value) is not None:
        return None
    return f"{value!r} is not a BigQuery location: use US, EU or a region such as us-central1"


def machine_type(value: Any) -> str | None:
    if _whole_string(MACHINE_TYPE_RE, value):
        return None
    return f"{value!r}: give a Compute Engine machine type such as n1-standard-2"


def endpoint_name(value: Any) -> str | None:
    """A Vertex AI publisher model id, as a managed embedding model is named."""
    if _whole_string(ENDPOINT_NAME_RE, value):
        return None
    return f"{value!r}: give a Vertex AI embedding model id such as text-embedding-005 or gemini-embedding-001"


def corpus_name(value: Any) -> str | None:
    if _whole_string(CORPUS_NAME_RE, value):
        return None
    return (
        f"{value!r} is not a corpus name: 1-30 lowercase letters, digits and underscores, starting with a letter "
        "(it becomes part of table names)"
    )


def pubsub_topic(value: Any) -> str | None:
    if _whole_string(PUBSUB_TOPIC_RE, value):
        return None
    return f"{value!r}: give a Pub/Sub topic as projects/PROJECT/topics/TOPIC"


def image(value: Any) -> str | None:
    """A container image by tag, digest or both, with its registry host."""
    if _whole_string(IMAGE_RE, value):
        return None
    return f"{value!r} is not a container image URI"


def as_int(value: Any) -> int | None:
    """A whole number, also when `pulumi config set --path` stored it as a string; else None (a bool is none)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def whole(value: Any, low: int, high: int | None = None) -> str | None:
    """A whole number from `low` to `high` (no upper bound when None)."""
    number = as_int(value)
    if number is not None and low <= number and (high is None or number <= high):
        return None
    bounds = f"of at least {low:,}" if high is None else f"from {low:,} to {high:,}"
    return f"{value!r}: give a whole number {bounds}"


def one_of(value: Any, choices: Iterable[Any]) -> str | None:
    allowed = list(choices)
    # Compared one by one: a list or an object is a wrong value, not an unhashable one.
    if any(type(value) is type(choice) and value == choice for choice in allowed):
        return None
    return f"{value!r}: give one of {allowed}"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{value!r}: give true or false"


def schedule(value: Any) -> tuple[str | None, str | None]:
    """(the schedule as BigQuery is sent it, or None for "none"; the error, or None).

    The grammar is BigQuery's custom-schedule syntax (bqml_text_embeddings/schedule.py); case and
    runs of spaces are folded, nothing else is.
    """
    if not isinstance(value, str) or not value.strip():
        return None, f"{value!r}: {SCHEDULE_FIX}"
    try:
        cleaned = groc.clean(value)
        if cleaned == "none":
            return None, None
        groc.check(cleaned)
    except groc.TooFrequent as exc:
        return None, f"{value!r}: {exc}"
    except groc.ScheduleError as exc:
        return None, f"{value!r} is not BigQuery's schedule syntax: {exc}; {SCHEDULE_FIX}"
    return cleaned, None
