"""The BigQuery scripting interpreter around GoogleSQL's reference engine: what it runs, and what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.googlesql import Engine, Table
from tests.googlesql.database import Database
from tests.googlesql.script import Script, Unsupported

T = "p.d.t"


@pytest.fixture
def db() -> Database:
    return Database({T: Table([("a", "INT64"), ("b", "STRING")], [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 3, "b": "y"}])})


def run(googlesql: Engine, db: Database, text: str, args: tuple = ()) -> Script:
    return Script(googlesql, db, text, list(args)).run()


def test_variables_control_flow_and_row_count(googlesql: Engine, db: Database) -> None:
    script = run(googlesql, db, f"""
        DECLARE n, total INT64 DEFAULT 0;
        DECLARE matched INT64;
        UPDATE `{T}` SET b = 'y' WHERE b = 'y';
        SET matched = @@row_count;
        WHILE n < 5 DO
          SET n = n + 1;
          IF MOD(n, 2) = 0 THEN CONTINUE; ELSEIF n = 5 THEN BREAK; END IF;
          SET total = total + n;
        END WHILE;
        LOOP
          SET n = n - 1;
          IF n <= 2 THEN LEAVE; END IF;
        END LOOP;""")
    assert script.error is None
    # @@row_count counts rows matched, changed or not (BigQuery's rule): both 'y' rows.
    assert (script.variable("matched"), script.variable("total"), script.variable("n")) == (2, 1 + 3, 2)


def test_a_column_wins_over_a_variable_of_the_same_name(googlesql: Engine, db: Database) -> None:
    script = run(googlesql, db, f"""
        DECLARE a INT64 DEFAULT 100;
        DECLARE found INT64;
        SET found = (SELECT MAX(a) FROM `{T}`);
        INSERT INTO `{T}` (a, b) VALUES (a, 'from the variable');""")
    assert script.variable("found") == 3
    assert db.tables[T].rows[-1] == {"a": 100, "b": "from the variable"}


def test_a_procedure_takes_its_arguments_and_returns(googlesql: Engine, db: Database) -> None:
    procedure = f"""CREATE OR REPLACE PROCEDURE `p.d.proc`(limit_a INT64)
    BEGIN
      DELETE FROM `{T}` WHERE a > limit_a;
      IF @@row_count > 0 THEN RETURN; END IF;
      DELETE FROM `{T}` WHERE TRUE;
    END;"""
    assert run(googlesql, db, procedure, (2,)).error is None
    assert [row["a"] for row in db.tables[T].rows] == [1, 2]  # returned after the first delete


def test_errors_reach_the_handler_with_their_message_and_raise_re_raises(googlesql: Engine, db: Database) -> None:
    script = run(googlesql, db, f"""
        DECLARE caught STRING;
        BEGIN
          BEGIN TRANSACTION;
          DELETE FROM `{T}` WHERE TRUE;
          SELECT 1 / 0;
          COMMIT TRANSACTION;
        EXCEPTION WHEN ERROR THEN
          SET caught = @@error.message;
          ROLLBACK TRANSACTION;
        END;
        BEGIN
          RAISE USING MESSAGE = CONCAT('stopped: ', caught);
        EXCEPTION WHEN ERROR THEN
          RAISE;
        END;""")
    assert script.error == "stopped: division by zero: 1 / 0"
    assert len(db.tables[T].rows) == 3 and db.open == []  # rolled back


def test_a_transaction_left_open_rolls_back_and_reads_see_its_snapshot(googlesql: Engine, db: Database) -> None:
    inside = Script(googlesql, db, f"BEGIN TRANSACTION; DELETE FROM `{T}` WHERE a = 1; SELECT 1; SELECT 2;")
    steps = inside.steps()
    for _ in range(3):
        next(steps)  # BEGIN and the DELETE ran
    assert len(db.tables[T].rows) == 3  # not committed: others see every row
    assert len(inside.query(f"SELECT * FROM `{T}`").rows) == 2  # the transaction sees its own write
    list(steps)
    assert len(db.tables[T].rows) == 3 and db.open == []  # the script ended with it open: rolled back


def test_current_timestamp_is_the_harness_clock_and_the_transaction_start_inside_one(googlesql: Engine, db: Database) -> None:
    db.clock.step = dt.timedelta(minutes=1)
    script = run(googlesql, db, """
        DECLARE before, in1, in2 TIMESTAMP;
        SET before = CURRENT_TIMESTAMP();
        BEGIN TRANSACTION;
        SET in1 = CURRENT_TIMESTAMP();
        SET in2 = CURRENT_TIMESTAMP();
        COMMIT TRANSACTION;""")
    assert script.variable("in1") == script.variable("in2") == script.variable("before") + dt.timedelta(minutes=1)


def test_what_the_interpreter_cannot_run_fails_the_test(googlesql: Engine, db: Database) -> None:
    for text in (f"MERGE `{T}` AS t USING (SELECT 1 AS a) AS s ON t.a = s.a WHEN MATCHED THEN DELETE;",
                 "CALL `p.d.proc`();", "SELECT CURRENT_DATE();", f"CREATE TABLE `{T}2` AS SELECT 1 AS a;"):
        with pytest.raises(Unsupported):
            run(googlesql, db, text)


def test_create_vector_index_is_recorded_and_can_be_made_to_fail(googlesql: Engine, db: Database) -> None:
    index = f"CREATE VECTOR INDEX IF NOT EXISTS i ON `{T}`(e) OPTIONS (index_type = 'IVF')"
    assert run(googlesql, db, index + ";").error is None and db.recorded == [index]
    db.record_error = "too many"
    assert run(googlesql, db, index + ";").error == "too many"


def test_tables_report_their_size_by_bigquerys_rules(googlesql: Engine, db: Database) -> None:
    (row,) = Script(googlesql, db, "SELECT 1;").query("SELECT row_count, size_bytes FROM `p.d.__TABLES__` WHERE table_id = 't'").rows
    assert row == {"row_count": 3, "size_bytes": 3 * 8 + 3 * (2 + 1)}  # INT64 8 bytes, STRING 2 + its UTF-8 bytes
    db.reported_size[T] = 10 * 2**20
    (row,) = Script(googlesql, db, "SELECT 1;").query("SELECT size_bytes FROM `p.d.__TABLES__`").rows
    assert row["size_bytes"] == 10 * 2**20
