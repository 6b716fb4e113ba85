"""Every table the stack reads: present, in the stack's `location`, with usable columns, and readable by the deployer.

A corpus's source table is judged by the very rule `pulumi up` applies (`bqml_text_embeddings.bigquery.source_table.problems`
on `tables.get`'s resource); the sample table by the same rule with no key, its `column` as the text.
Then BigQuery's `tables.testIamPermissions` asks for what the deployer will do with each table.
"""

from __future__ import annotations

from typing import Any

from bqml_text_embeddings.bigquery import jobs, source_table
from stack.config import NAMESPACE, Settings
from stack.preflight import permissions, rest
from stack.preflight.report import Line, fail, note, ok

CHECK = "tables"


def check(client: Any, settings: Settings) -> tuple[list[Line], dict[str, int | None]]:
    """One line per finding, and each readable table's row count (None where BigQuery gives none, e.g. a view)."""
    lines: list[Line] = []
    rows: dict[str, int | None] = {}
    for corpus in settings.corpora:
        setting = f"{NAMESPACE}:corpora.{corpus.name}"
        resource = jobs.table_resource(client, corpus.table)
        found = source_table.problems(resource, corpus.table, settings.location, corpus.key, corpus.text, corpus.newest_by, setting)
        lines += [fail(CHECK, problem) for problem in found]
        if resource is None:
            continue
        rows[corpus.table] = _rows(resource)
        if not found:
            columns = _types(resource)
            keys = ", ".join(f"{k} ({columns[k.lower()]})" for k in corpus.key)
            lines.append(
                ok(CHECK, f"{setting}.table: {corpus.table} is in {settings.location}, key {keys}, text {corpus.text} (STRING), {_count(resource)}")
            )
        lines += _permissions(client, corpus.table, permissions.SOURCE_TABLE, settings, f"{setting}.table")
    if settings.samples.enabled:
        table, column = settings.samples.table, settings.samples.column
        setting = f"{NAMESPACE}:samplePredictions"
        resource = jobs.table_resource(client, table)
        # The rule is the corpus source's with no key, its text named by the samples' own option.
        found = source_table.problems(resource, table, settings.location, (), column, None, setting, text_option="column")
        lines += [fail(CHECK, problem) for problem in found]
        if resource is not None:
            rows[table] = _rows(resource)
            if not found:
                lines.append(ok(CHECK, f"{setting}.table: {table} is in {settings.location}, column {column} (STRING), {_count(resource)}"))
            lines += _permissions(client, table, permissions.SAMPLE_TABLE, settings, f"{setting}.table")
    return lines, rows


def _permissions(client: Any, table: str, on: str, settings: Settings, where: str) -> list[Line]:
    needs = permissions.needed(settings, on)
    wanted = sorted({p for need in needs for p in need.permissions})
    if not wanted:
        return []
    try:  # the client's default retry covers BigQuery's transient errors
        held = set(client.test_iam_permissions(table, wanted).get("permissions", []))
    except Exception as exc:  # noqa: BLE001 - reported; the other checks still run
        return [note(CHECK, f"{where}: cannot test the deployer's permissions on {table}: {rest.message(exc)}")]
    return permissions.missing_lines(needs, held, f"{where} {table}", "on the table (or its dataset) to the deployer")


def _types(resource: dict[str, Any]) -> dict[str, str]:
    return {f["name"].lower(): str(f.get("type", "")).upper() for f in (resource.get("schema") or {}).get("fields", [])}


def _rows(resource: dict[str, Any]) -> int | None:
    found = resource.get("numRows")
    return int(found) if found is not None else None


def _count(resource: dict[str, Any]) -> str:
    found = _rows(resource)
    return "rows unknown (a view or external table)" if found is None else f"{found:,} rows"
