"""Shared checks of the values users give, config keys and component arguments alike.

Each function returns None for a good value, else the message without the key: callers
prefix the key they read the value from (`corpora.tickets.table: …`, `EmbeddedCorpus
tickets: table: …`). Every pattern matches the whole string.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bqml_text_embeddings import schedule as schedules

# Google's documented forms. Project: 6-30 of [a-z0-9-], starting with a letter (plus the legacy
# domain-scoped "example.com:name" form).
PROJECT_RE = re.compile(r"(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
DATASET_RE = re.compile(r"[A-Za-z0-9_]{1,1024}")
TABLE_RE = re.compile(r"[A-Za-z0-9_-]{1,1024}")
COLUMN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
PUBSUB_TOPIC_RE = re.compile(r"projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9._~%+-]{2,254}")
ENDPOINT_NAME_RE = re.compile(r"[a-z][a-z0-9.-]{0,126}[a-z0-9](?:@[0-9]{3})?")


def as_int(value: Any) -> int | None:
    """A whole number, also when `pulumi config set --path` stored it as a string; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return int(value)
    return None


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def project_id(value: Any) -> str | None:
    return None if _matches(PROJECT_RE, value) else f"{value!r} is not a Google Cloud project id (6-30 lowercase letters, digits, hyphens)"


def dataset_id(value: Any) -> str | None:
    return None if _matches(DATASET_RE, value) else f"{value!r} is not a BigQuery dataset id: 1-1024 letters, digits or underscores"


def table_ref(value: Any) -> str | None:
    parts = value.split(".") if isinstance(value, str) else []
    if len(parts) == 3 and not project_id(parts[0]) and not dataset_id(parts[1]) and _matches(TABLE_RE, parts[2]):
        return None
    return f"{value!r}: give a table as project.dataset.table"


def column(value: Any) -> str | None:
    return None if _matches(COLUMN_RE, value) else f"{value!r} is not a plain column name (letters, digits, underscores)"


def columns(value: Any) -> str | None:
    if not isinstance(value, list) or not value or any(column(c) for c in value):
        return f"{value!r}: give a non-empty list of column names"
    if len(set(value)) != len(value):
        return f"{value!r} names a column twice"
    return None


def whole(value: Any, low: int, high: int) -> str | None:
    number = as_int(value)
    return None if number is not None and low <= number <= high else f"{value!r}: give a whole number from {low:,} to {high:,}"


def one_of(value: Any, choices: Sequence[str]) -> str | None:
    return None if isinstance(value, str) and value in choices else f"{value!r}: choose one of {list(choices)}"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{value!r}: give true or false"


def pubsub_topic(value: Any) -> str | None:
    return None if _matches(PUBSUB_TOPIC_RE, value) else f"{value!r}: give a Pub/Sub topic as projects/PROJECT/topics/TOPIC"


def endpoint_name(value: Any) -> str | None:
    if _matches(ENDPOINT_NAME_RE, value):
        return None
    return f"{value!r}: give a Vertex AI embedding model id such as text-embedding-005 or gemini-embedding-001"


SCHEDULE_HINT = 'give BigQuery\'s schedule syntax such as "every 24 hours", or "none" to refresh only by hand'


def schedule(value: Any) -> tuple[str | None, str | None]:
    """(BigQuery's schedule, cleaned, or None for "none"; the error, or None)."""
    if not isinstance(value, str) or not value.strip():
        return None, f"{value!r}: {SCHEDULE_HINT}"
    try:
        text = schedules.clean(value)
        if text == "none":
            return None, None
        schedules.check(text)
    except schedules.TooFrequent as exc:
        return None, f"{value!r}: {exc}"
    except schedules.ScheduleError as exc:
        return None, f"{value!r} is not BigQuery's schedule syntax: {exc}; {SCHEDULE_HINT}"
    return text, None
