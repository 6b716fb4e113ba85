"""What a corpus needs of its source table, judged from the table's metadata (tables.get).

BigQuery queries only within one location, and a key must be something the
refresh can group rows by and compare exactly: its type decides. The rule is
plain data and a pure function, so `pulumi up` (through `SourceTableCheck`)
and a preflight can apply the same one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult

from bqml_text_embeddings.bigquery import jobs

# Types BigQuery can group by (GoogleSQL "Groupable data types": all but GEOGRAPHY, JSON, ARRAY
# and STRUCT), as tables.get spells them (legacy and standard names), less FLOAT64: equal-looking
# floats differ, and NaN is not equal to itself, so a float key can never find its own row.
KEY_TYPES = frozenset(
    {"STRING", "BYTES", "INTEGER", "INT64", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "BOOL", "DATE", "DATETIME", "TIME", "TIMESTAMP", "INTERVAL"}
)
NEWEST_TYPES = frozenset({"INTEGER", "INT64", "NUMERIC", "BIGNUMERIC", "DATE", "DATETIME", "TIMESTAMP"})
_WHY_NOT_KEY = {
    "FLOAT": "a float key is a trap (equal-looking values differ, NaN never equals itself)",
    "FLOAT64": "a float key is a trap (equal-looking values differ, NaN never equals itself)",
    "GEOGRAPHY": "BigQuery cannot group by GEOGRAPHY",
    "JSON": "BigQuery cannot group by JSON",
    "RECORD": "BigQuery cannot group by STRUCT",
    "STRUCT": "BigQuery cannot group by STRUCT",
}


class SourceTableError(jobs.StatementError):
    """The source table is missing, elsewhere, or lacks what the corpus names."""


def problems(
    resource: Mapping[str, Any] | None,
    table: str,
    location: str,
    key: Sequence[str],
    text: str,
    newest_by: str | None,
    setting: str,
    text_option: str = "text",
) -> list[str]:
    """One line per problem, each naming the setting (`setting` is e.g. bqml-text-embeddings:corpora.tickets)
    and its option (`text_option` names the text column's: `text` for a corpus, `column` for the samples)."""
    if resource is None:
        return [f"{setting}.table: {table} does not exist or the deployer cannot read it: check the table's name and your access"]
    found = str(resource.get("location") or "")
    if found.upper() != location.upper():
        return [
            f"{setting}.table: {table} is in {found}, and BigQuery queries only within one location: the stack's "
            f"location is {location}. Copy the table to {location}, or set bqml-text-embeddings:location to {found}."
        ]
    columns = {f["name"].lower(): f for f in (resource.get("schema") or {}).get("fields", [])}
    lines: list[str] = []

    def column(name: str, option: str) -> Mapping[str, Any] | None:
        field = columns.get(name.lower())
        if field is None:
            lines.append(f"{setting}.{option}: {table} has no column {name}; its columns are {sorted(f['name'] for f in columns.values())}")
        return field

    for name in key:
        field = column(name, "key")
        if field is None:
            continue
        kind = str(field.get("type", "")).upper()
        if field.get("mode") == "REPEATED":
            lines.append(f"{setting}.key: {name} is an ARRAY, and BigQuery cannot group by ARRAY: choose scalar key columns")
        elif kind not in KEY_TYPES:
            why = _WHY_NOT_KEY.get(kind, f"{kind} is not a type a row can be identified by")
            lines.append(f"{setting}.key: {name} is {kind}: {why}; choose key columns of {sorted(KEY_TYPES - {'INTEGER', 'BOOLEAN'})}")
    field = column(text, text_option)
    if field is not None and (str(field.get("type", "")).upper() != "STRING" or field.get("mode") == "REPEATED"):
        kind = "ARRAY" if field.get("mode") == "REPEATED" else str(field.get("type", "")).upper()
        lines.append(f"{setting}.{text_option}: {text} is {kind}; the text to embed must be a STRING column")
    if newest_by is not None:
        field = column(newest_by, "newestBy")
        if field is not None and (str(field.get("type", "")).upper() not in NEWEST_TYPES or field.get("mode") == "REPEATED"):
            lines.append(
                f"{setting}.newestBy: {newest_by} is {field.get('type')}; give a column that orders copies by age "
                f"(TIMESTAMP, DATETIME, DATE or a number such as a version)"
            )
    return lines


def check(client: Any, table: str, location: str, key: Sequence[str], text: str, newest_by: str | None, setting: str) -> None:
    """Raises SourceTableError with every problem of the source table, or returns."""
    found = problems(jobs.table_resource(client, table), table, location, key, text, newest_by, setting)
    if found:
        raise SourceTableError("the corpus source table does not fit:\n  " + "\n  ".join(found))


_COMPARED = ("project", "location", "table", "key", "text", "newest_by")


class SourceTableCheckProvider(ResourceProvider):
    """Keep this class small and stable: its pickled code is part of every resource's inputs."""

    def __init__(self, client_factory: Callable[[str, str], Any] = jobs.make_client) -> None:
        self._client_factory = client_factory

    def _check(self, props: dict[str, Any]) -> None:
        client = self._client_factory(props["project"], props["location"])
        check(client, props["table"], props["location"], props["key"], props["text"], props.get("newest_by"), props["setting"])

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._check(props)
        return CreateResult(f"source-{props['table']}", props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # a check holds no state of its own

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _COMPARED if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._check(news)
        return UpdateResult(news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class SourceTableCheck(pulumi.dynamic.Resource):
    """`pulumi up` stops here, naming the setting, when the source table cannot serve the corpus."""

    def __init__(
        self,
        name: str,
        project: str,
        location: str,
        table: str,
        key: Sequence[str],
        text: str,
        newest_by: str | None,
        setting: str,
        provider: ResourceProvider | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "project": project,
            "location": location,
            "table": table,
            "key": list(key),
            "text": text,
            "newest_by": newest_by,
            "setting": setting,
        }
        super().__init__(provider or SourceTableCheckProvider(), name, props, opts)
