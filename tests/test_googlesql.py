"""The GoogleSQL harness (tests/googlesql): BigQuery's SQL on ZetaSQL's reference evaluator.

Each test pins exact results, so a wrong catalog, option or value conversion shows here
before it shows as a puzzling failure in a test of the project's SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.googlesql import Engine, GoogleSQLError, MissingEngine, Param, Table, server

ROOT = Path(__file__).resolve().parent.parent
TICKETS = "my-proj-123.tf_models_tutorial.tickets"
EMBEDDINGS = "my-proj-123.tf_models_tutorial.tickets_nnlm_embeddings"
T = f"`{TICKETS}`"
E = f"`{EMBEDDINGS}`"
TS = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def tickets() -> Table:
    return Table(
        columns=[("id", "INT64"), ("title", "STRING"), ("body", "STRING"), ("priority", "INT64"), ("created", "TIMESTAMP")],
        rows=[
            {"id": 1, "title": "Printer jam", "body": "paper stuck", "priority": 2, "created": TS},
            {"id": 2, "title": "VPN down", "body": None, "priority": 1, "created": TS - dt.timedelta(hours=3)},
            {"id": 3, "title": "Printer toner", "body": "low toner", "priority": None, "created": TS - dt.timedelta(days=1)},
            {"id": 4, "title": "Password reset", "body": "locked out", "priority": 3, "created": TS},
        ],
    )


def embeddings() -> Table:
    return Table(
        columns=[("id", "INT64"), ("content", "STRING"), ("embedding", "ARRAY<FLOAT64>"), ("model", "STRING")],
        rows=[
            {"id": 1, "content": "Printer jam", "embedding": [0.1, -2.5e-300, 1 / 3], "model": "nnlm"},
            {"id": 1, "content": "Printer jam", "embedding": [0.2, 0.0], "model": "old"},
            {"id": 3, "content": "Printer toner", "embedding": [], "model": "nnlm"},
            {"id": 9, "content": "orphan", "embedding": None, "model": "nnlm"},
        ],
    )


def tables() -> dict[str, Table]:
    return {TICKETS: tickets(), EMBEDDINGS: embeddings()}


# --- queries -------------------------------------------------------------------------------------


def test_a_backticked_three_part_name_with_dashes_resolves_and_columns_carry_bigquery_types(googlesql: Engine) -> None:
    result = googlesql.query(f"SELECT id, title, created FROM {T} WHERE id = 1", tables())
    assert result.columns == [("id", "INT64"), ("title", "STRING"), ("created", "TIMESTAMP")]
    assert result.rows == [{"id": 1, "title": "Printer jam", "created": TS}]


def test_joins_not_exists_in_and_ctes(googlesql: Engine) -> None:
    sql = f"""
        WITH embedded AS (SELECT DISTINCT id FROM {E} WHERE model = 'nnlm')
        SELECT t.id, e.model, t.id IN (SELECT id FROM embedded) AS is_embedded,
               NOT EXISTS (SELECT 1 FROM {E} AS x WHERE x.id = t.id) AS never_embedded
        FROM {T} AS t
        LEFT JOIN {E} AS e ON e.id = t.id AND e.model = 'nnlm'
        ORDER BY t.id
    """
    assert googlesql.query(sql, tables()).rows == [
        {"id": 1, "model": "nnlm", "is_embedded": True, "never_embedded": False},
        {"id": 2, "model": None, "is_embedded": False, "never_embedded": True},
        {"id": 3, "model": "nnlm", "is_embedded": True, "never_embedded": False},
        {"id": 4, "model": None, "is_embedded": False, "never_embedded": True},
    ]
    inner = googlesql.query(f"SELECT t.id FROM {T} t JOIN {E} e USING (id) ORDER BY id", tables())
    assert inner.column("id") == [1, 1, 3]


def test_qualify_row_number_keeps_one_row_per_partition_and_limit(googlesql: Engine) -> None:
    sql = f"""
        SELECT id, model FROM {E}
        WHERE TRUE
        QUALIFY ROW_NUMBER() OVER (PARTITION BY id ORDER BY model DESC) = 1
        ORDER BY id LIMIT 2
    """
    assert googlesql.query(sql, tables()).rows == [{"id": 1, "model": "old"}, {"id": 3, "model": "nnlm"}]


def test_scalar_functions_as_bigquery_computes_them(googlesql: Engine) -> None:
    sql = f"""
        SELECT
          TO_JSON_STRING(STRUCT(id, title, priority)) AS js,
          CAST(id AS STRING) AS id_text, CAST('2.5' AS FLOAT64) AS f,
          IFNULL(body, '') AS body, COALESCE(priority, 0) AS prio,
          STARTS_WITH(title, 'Printer') AS printer, title LIKE '%jam' AS jam,
          IF(priority > 1, 'high', 'low') AS level,
          CASE WHEN priority IS NULL THEN 'none' WHEN priority = 1 THEN 'one' ELSE 'more' END AS word
        FROM {T} ORDER BY id
    """
    rows = googlesql.query(sql, tables()).rows
    assert rows[2] == {
        "js": '{"id":3,"title":"Printer toner","priority":null}', "id_text": "3", "f": 2.5, "body": "low toner", "prio": 0,
        "printer": True, "jam": False, "level": "low", "word": "none",
    }  # fmt: skip
    assert [r["js"] for r in rows[:2]] == ['{"id":1,"title":"Printer jam","priority":2}', '{"id":2,"title":"VPN down","priority":1}']
    assert [(r["body"], r["prio"], r["jam"], r["level"], r["word"]) for r in rows] == [
        ("paper stuck", 2, True, "high", "more"), ("", 1, False, "low", "one"),
        ("low toner", 0, False, "low", "none"), ("locked out", 3, False, "high", "more"),
    ]  # fmt: skip


def test_farm_fingerprint_gives_the_values_bigquery_documents(googlesql: Engine) -> None:
    # The example in BigQuery's FARM_FINGERPRINT reference: the same hash, so keys made with it agree.
    sql = "SELECT FARM_FINGERPRINT(CONCAT(CAST(x AS STRING), y, CAST(z AS STRING))) AS f FROM UNNEST([STRUCT(1 AS x, 'foo' AS y, true AS z), (2, 'apple', false), (3, '', true)]) ORDER BY x"
    assert googlesql.query(sql, {}).column("f") == [-1541654101129638711, 2794438866806483259, -4880158226897771312]


def test_arrays_literals_generate_array_subqueries_and_exact_floats(googlesql: Engine) -> None:
    sql = f"""
        SELECT id, embedding, ARRAY_LENGTH(embedding) AS n,
               ARRAY(SELECT x * 2 FROM UNNEST(embedding) AS x WITH OFFSET o ORDER BY o) AS doubled
        FROM {E} WHERE model = 'nnlm' ORDER BY id
    """
    rows = googlesql.query(sql, tables()).rows
    assert rows == [
        {"id": 1, "embedding": [0.1, -2.5e-300, 1 / 3], "n": 3, "doubled": [0.2, -5e-300, 2 / 3]},
        {"id": 3, "embedding": [], "n": 0, "doubled": []},
        {"id": 9, "embedding": None, "n": None, "doubled": []},
    ]
    literals = googlesql.query("SELECT [1.0, 2.0] AS a, ARRAY<FLOAT64>[] AS e, GENERATE_ARRAY(1, 7, 3) AS g, [0.1 + 0.2] AS s", {})
    assert literals.columns == [("a", "ARRAY<FLOAT64>"), ("e", "ARRAY<FLOAT64>"), ("g", "ARRAY<INT64>"), ("s", "ARRAY<FLOAT64>")]
    assert literals.rows == [{"a": [1.0, 2.0], "e": [], "g": [1, 4, 7], "s": [0.1 + 0.2]}]
    extremes = [math.pi, 5e-324, 1.7976931348623157e308, -0.0, math.inf, math.nan]
    back = googlesql.query("SELECT @v AS v", {}, {"v": extremes}).rows[0]["v"]
    assert [x.hex() for x in back] == [x.hex() for x in extremes]


def test_timestamps_aggregates_and_array_agg_of_structs(googlesql: Engine) -> None:
    sql = f"""
        SELECT COUNTIF(priority IS NULL) AS unprioritized,
               COUNTIF(TIMESTAMP_DIFF(@now, created, HOUR) >= 3) AS older,
               TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), MAX(created), DAY) >= 0 AS in_the_past,
               ARRAY_AGG(STRUCT(id, priority) ORDER BY id LIMIT 2) AS firsts
        FROM {T}
    """
    result = googlesql.query(sql, tables(), {"now": TS})
    assert result.columns[3] == ("firsts", "ARRAY<STRUCT<id INT64, priority INT64>>")
    assert result.rows == [
        {"unprioritized": 1, "older": 2, "in_the_past": True, "firsts": [{"id": 1, "priority": 2}, {"id": 2, "priority": 1}]}
    ]


def test_parameters_typed_and_inferred(googlesql: Engine) -> None:
    result = googlesql.query(
        f"SELECT id FROM {T} WHERE title LIKE @pattern AND id IN UNNEST(@ids) AND (@cap IS NULL OR priority <= @cap) ORDER BY id",
        tables(),
        {"pattern": "Printer%", "ids": [1, 2, 3], "cap": Param(None, "INT64")},
    )
    assert result.column("id") == [1, 3]


def test_every_column_type_round_trips_with_nulls(googlesql: Engine) -> None:
    columns = [
        ("s", "STRING"), ("i", "INT64"), ("f", "FLOAT64"), ("b", "BOOL"), ("t", "TIMESTAMP"), ("y", "BYTES"),
        ("d", "DATE"), ("n", "NUMERIC"), ("af", "ARRAY<FLOAT64>"), ("as", "ARRAY<STRING>"),
        ("st", "STRUCT<a INT64, b STRING, c ARRAY<FLOAT64>>"),
    ]  # fmt: skip
    full = {
        "s": "é\n'`", "i": -(2**63), "f": -1.5e-10, "b": False, "t": dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        "y": b"\x00\xff", "d": dt.date(1, 1, 1), "n": Decimal("-99999999999999999999999999999.999999999"),
        "af": [0.5, 1e300], "as": ["", "x"], "st": {"a": 1, "b": None, "c": [2.5]},
    }  # fmt: skip
    table = Table(columns, [full, {}])
    result = googlesql.query("SELECT * FROM `p.d.everything`", {"p.d.everything": table})
    assert result.columns == columns
    assert result.rows == [full, dict.fromkeys(full)]


def test_language_options_are_bigquerys_product_mode_and_time_zone(googlesql: Engine) -> None:
    # EXTERNAL product mode: BigQuery's type names only.
    with pytest.raises(GoogleSQLError, match="Type not found: DOUBLE"):
        googlesql.query("SELECT CAST(1 AS DOUBLE)", {})
    with pytest.raises(GoogleSQLError, match="Type not found: INT32"):
        googlesql.query("SELECT CAST(1 AS INT32)", {})
    # UTC, as in BigQuery (ZetaSQL's own default is America/Los_Angeles).
    result = googlesql.query("SELECT DATE(TIMESTAMP '2026-11-25 02:00:00') AS d, TIMESTAMP '2026-11-25 02:00:00' AS t", {})
    assert result.rows == [{"d": dt.date(2026, 11, 25), "t": dt.datetime(2026, 11, 25, 2, tzinfo=dt.UTC)}]
    # The INTERVAL type, enabled beyond this ZetaSQL's released features as BigQuery has it.
    later = googlesql.query("SELECT @t + INTERVAL 90 MINUTE AS t", {}, {"t": TS})
    assert later.rows == [{"t": TS + dt.timedelta(minutes=90)}]


# --- DML ---------------------------------------------------------------------------------------


def test_insert_select_with_a_column_list_appends_rows(googlesql: Engine) -> None:
    sql = f"""
        INSERT INTO {E} (id, content, embedding, model)
        SELECT id, title, [1.0, CAST(id AS FLOAT64)], 'nnlm' FROM {T} AS t
        WHERE NOT EXISTS (SELECT 1 FROM {E} AS e WHERE e.id = t.id AND e.model = 'nnlm')
    """
    after = googlesql.modify(sql, tables())
    assert after.columns == embeddings().columns
    assert after.rows == [
        *embeddings().rows,
        {"id": 2, "content": "VPN down", "embedding": [1.0, 2.0], "model": "nnlm"},
        {"id": 4, "content": "Password reset", "embedding": [1.0, 4.0], "model": "nnlm"},
    ]


def test_update_with_a_subquery_changes_rows_in_place(googlesql: Engine) -> None:
    sql = f"""
        UPDATE {E} AS e SET content = UPPER(content), embedding = ARRAY<FLOAT64>[]
        WHERE e.model = 'nnlm' AND e.id IN (SELECT id FROM {T} WHERE STARTS_WITH(title, 'Printer'))
    """
    after = googlesql.modify(sql, tables())
    expected = embeddings().rows
    expected[0] |= {"content": "PRINTER JAM", "embedding": []}
    expected[2] |= {"content": "PRINTER TONER", "embedding": []}
    assert after.rows == expected


def test_update_of_identical_rows_in_a_table_without_a_key(googlesql: Engine) -> None:
    same = Table([("k", "STRING"), ("v", "INT64")], [{"k": "a", "v": 1}, {"k": "a", "v": 1}, {"k": "b", "v": 1}])
    after = googlesql.modify("UPDATE `p.d.same` SET v = v + 1 WHERE k = 'a'", {"p.d.same": same})
    assert after.rows == [{"k": "a", "v": 2}, {"k": "a", "v": 2}, {"k": "b", "v": 1}]
    after = googlesql.modify("DELETE `p.d.same` WHERE k = 'a'", {"p.d.same": same})
    assert after.rows == [{"k": "b", "v": 1}]


def test_delete_not_in_and_not_exists(googlesql: Engine) -> None:
    orphans = googlesql.modify(f"DELETE FROM {E} WHERE id NOT IN (SELECT id FROM {T})", tables())
    assert [r["id"] for r in orphans.rows] == [1, 1, 3]
    stale = googlesql.modify(
        f"DELETE {E} AS e WHERE NOT EXISTS (SELECT 1 FROM {T} AS t WHERE t.id = e.id AND e.model = @model)", tables(), {"model": "nnlm"}
    )
    assert [(r["id"], r["model"]) for r in stale.rows] == [(1, "nnlm"), (3, "nnlm")]


def test_modify_leaves_the_given_tables_unchanged(googlesql: Engine) -> None:
    given = tables()
    googlesql.modify(f"DELETE {E} WHERE TRUE", given)
    assert given[EMBEDDINGS].rows == embeddings().rows


# --- what the evaluator refuses, and errors ------------------------------------------------------


def test_merge_parses_but_the_evaluator_refuses_it(googlesql: Engine) -> None:
    sql = f"MERGE {E} AS e USING {T} AS t ON e.id = t.id WHEN NOT MATCHED THEN INSERT (id, content) VALUES (t.id, t.title)"
    googlesql.parse(sql, script=False)
    with pytest.raises(GoogleSQLError, match="Evaluator does not support statement kind: MergeStmt"):
        googlesql.modify(sql, tables())


def test_a_script_parses_but_is_not_evaluated(googlesql: Engine) -> None:
    script = f"DECLARE n INT64 DEFAULT 0;\nSET n = (SELECT COUNT(*) FROM {T});\nIF n > 0 THEN\n  SELECT n;\nEND IF;"
    googlesql.parse(script)
    with pytest.raises(GoogleSQLError, match="Syntax error: Unexpected keyword DECLARE"):
        googlesql.parse(script, script=False)
    with pytest.raises(GoogleSQLError, match="Unexpected keyword DECLARE"):
        googlesql.query(script, tables())


def test_errors_carry_zetasql_message_the_sql_and_a_caret(googlesql: Engine) -> None:
    sql = f"SELECT nope FROM {T}"
    with pytest.raises(GoogleSQLError) as caught:
        googlesql.query(sql, tables())
    assert caught.value.message.startswith("Unrecognized name: nope [at 1:8]")
    assert caught.value.sql == sql and sql in str(caught.value)
    with pytest.raises(GoogleSQLError, match=re.escape("Table not found: `my-proj-123.x.y`")):
        googlesql.query("SELECT 1 FROM `my-proj-123.x.y`", tables())
    with pytest.raises(GoogleSQLError, match=re.escape("Found duplicate(s): id")):
        googlesql.query(f"SELECT id, ID FROM {T}", tables())
    with pytest.raises(GoogleSQLError, match="division by zero"):
        googlesql.query("SELECT 1 / 0", {})
    with pytest.raises(GoogleSQLError, match="Syntax error"):
        googlesql.parse("SELEC 1")


def test_bigquery_ml_functions_are_not_in_the_reference_engine(googlesql: Engine) -> None:
    with pytest.raises(GoogleSQLError, match=re.escape("Function not found: ML.DISTANCE")):
        googlesql.query("SELECT ML.DISTANCE([1.0], [2.0], 'COSINE')", {})


# --- the server process ----------------------------------------------------------------------------


def test_the_server_listens_on_loopback_and_stops_with_the_engine() -> None:
    engine = Engine.start()
    process = engine._server.process
    try:
        assert engine.query("SELECT 1 AS one", {}).rows == [{"one": 1}]
        if shutil.which("ss"):  # Linux; elsewhere the address is only passed, not checked
            listening = subprocess.run(["ss", "-ltnH", f"sport = :{engine._server.port}"], capture_output=True, text=True, check=True)
            addresses = [line.split()[3] for line in listening.stdout.splitlines()]
            # The server binds an IPv6 socket: 127.0.0.1 shows as [::ffff:127.0.0.1].
            assert addresses and all(re.fullmatch(rf"(\[::ffff:)?127\.0\.0\.1\]?:{engine._server.port}", a) for a in addresses), addresses
    finally:
        engine.close()
    assert process.poll() is not None


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_server_dies_with_a_test_process_killed_outright(tmp_path: Path) -> None:
    script = "import sys, time; from tests.googlesql import Engine; e = Engine.start(); print(e._server.process.pid, flush=True); time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        pid = int(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead, waiting for init to reap it


@pytest.mark.parametrize(
    ("system", "machine", "name"),
    [("Linux", "x86_64", "remote_server.so"), ("Linux", "aarch64", "remote_server_arm.so"),
     ("Darwin", "x86_64", "remote_server"), ("Darwin", "arm64", "remote_server_arm")],
)  # fmt: skip
def test_the_binary_is_picked_by_platform(monkeypatch: pytest.MonkeyPatch, system: str, machine: str, name: str) -> None:
    monkeypatch.setattr(server.platform, "system", lambda: system)
    monkeypatch.setattr(server.platform, "machine", lambda: machine)
    assert server.binary().name == name
    monkeypatch.setattr(server.platform, "system", lambda: "Windows")
    with pytest.raises(MissingEngine, match="no binary for Windows"):
        server.binary()


def test_a_missing_binary_says_to_run_dev_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.googlesql import protos

    monkeypatch.setattr(protos, "HOME", tmp_path)
    with pytest.raises(MissingEngine, match=re.escape("run ./dev setup")):
        server.binary()
