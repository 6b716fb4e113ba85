"""The corpus refresh executed on the GoogleSQL reference engine: which rows it touches, and nothing else.

Every scenario runs the product's statements (tests/corpus_runs.py says what
the harness supplies: the procedure's control flow and a deterministic model)
and asserts the tables afterwards, the rows sent to the model against an
independent reckoning of the rows that needed it, and the invariant
"source rows = embedded + pending + failed" from the status view's own SQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlglot import exp

from infra.bigquery import refresh, sql
from tests.bigquery_sql import parse as bigquery_parse
from tests.corpus_runs import RETRYABLE, TABLES, TRANSIENT, World, fake_model, plan
from tests.googlesql import Engine, Table

SOURCE_COLUMNS = [("ticket_id", "INT64"), ("line", "INT64"), ("body", "STRING"), ("priority", "STRING")]


def tickets(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [{"ticket_id": i, "line": 1, "body": f"ticket {i}: the printer on floor {i % 7} is jammed", "priority": "p2"} for i in range(start, start + count)]


@pytest.fixture
def world(googlesql: Engine) -> World:
    return World(googlesql, Table(SOURCE_COLUMNS, tickets(24)))


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [row["doc_id"] for row in rows]
    assert len(ids) == len(set(ids)), f"duplicate doc_id: {sorted(i for i in ids if ids.count(i) > 1)}"
    return {row["doc_id"]: row for row in rows}


def source_texts(world: World) -> dict[str, str | None]:
    return {str(row["ticket_id"]): row["body"] for row in world.source.rows if row["ticket_id"] is not None}


def assert_consistent(world: World, p: refresh.Refresh, expect_pending: int = 0) -> dict[str, Any]:
    """No key in both tables or twice in one; every embedded row matches the source; the status adds up."""
    embedded, failures = by_id(world.embeddings), by_id(world.failures)
    assert not set(embedded) & set(failures)
    texts = source_texts(world)
    for doc_id, row in embedded.items():
        assert row["content"] == texts[doc_id] and row["model_version"] == p.model_version and row["status"] == "embedded"
        assert len(row["embedding"]) == row["dims"] == p.embedder.dims  # one vector length in the column, as the index needs
    status = world.status(p)
    current_failed = sum(1 for f in failures.values() if f["status"] == "failed" and f["model_version"] == p.model_version)
    assert status["source_rows"] == len(texts)
    assert status["embedded"] == len(embedded)
    assert status["failed"] == current_failed
    assert status["pending"] == expect_pending
    assert status["source_rows"] == status["embedded"] + status["pending"] + status["failed"]
    return status


def test_first_fill_embeds_every_row_once_and_keeps_a_row_without_text_as_failed(world: World) -> None:
    world.source.rows[3]["body"] = "   "
    world.source.rows[5]["body"] = None
    p = plan(batch_size=5)
    run = world.refresh(p)

    assert run.outcome == "done" and 1 <= run.batches <= 5  # 24 rows in batches of about 5
    assert sorted(run.sent_ids) == sorted(str(i) for i in range(1, 25) if i not in (4, 6))  # exactly once each
    assert run.sent == 22 and run.embedded == 22 and run.failed == 2
    failures = by_id(world.failures)
    assert {k: (v["status"], v["error"], v["attempts"]) for k, v in failures.items()} == {
        "4": ("failed", "no text to embed", 1),
        "6": ("failed", "no text to embed", 1),
    }
    status = assert_consistent(world, p)
    assert status["failed_by_reason"] == [{"reason": "no text to embed", "rows": 2}]
    assert status["last_refresh"]["outcome"] == "done" and status["last_refresh"]["sent"] == 22
    (log,) = world.tables[TABLES.runs].rows
    assert (log["model"], log["batches"], log["sent"], log["embedded"], log["failed"]) == ("fake", run.batches, 22, 22, 2)
    assert world.tables[TABLES.lease].rows == [{"model": "fake", "holder": None, "expires_at": None}]


def test_an_unchanged_source_embeds_nothing_and_changes_nothing(world: World) -> None:
    p = plan(batch_size=5)
    world.refresh(p)
    before = (list(world.embeddings), list(world.failures))
    run = world.refresh(p)
    assert (run.todo, run.sent, run.batches, run.deleted) == (0, 0, 0, 0)
    assert (world.embeddings, world.failures) == before
    assert_consistent(world, p)


def test_edits_inserts_and_deletes_touch_exactly_those_rows(world: World) -> None:
    p = plan(batch_size=4)
    world.refresh(p)
    before = by_id(world.embeddings)
    world.source.rows[0]["body"] = "ticket 1: the printer is fixed, the scanner is not"
    world.source.rows[9]["body"] += " (again)"
    world.source.rows[9]["priority"] = "p1"  # another column changing is not an edit of the text
    world.source.rows[10]["priority"] = "p0"
    del world.source.rows[20:22]  # tickets 21 and 22 leave
    world.source.rows += tickets(3, start=100)

    run = world.refresh(p)
    assert sorted(run.sent_ids) == sorted(["1", "10", "100", "101", "102"])
    assert run.deleted == 2
    after = by_id(world.embeddings)
    assert set(after) == set(before) - {"21", "22"} | {"100", "101", "102"}
    for untouched in set(before) - {"1", "10", "21", "22"}:
        assert after[untouched] == before[untouched]  # not rewritten: same vector, same time
    assert after["1"]["content"].startswith("ticket 1: the printer is fixed") and after["1"]["embedding"] != before["1"]["embedding"]
    assert_consistent(world, p)


def test_retryable_failures_are_retried_by_later_runs_up_to_the_limit(world: World) -> None:
    p = plan(batch_size=10, max_attempts=3)
    world.faults = {"3": TRANSIENT, "7": TRANSIENT}
    first = world.refresh(p)
    assert first.sent == 24 and first.failed == 2
    assert {k: (v["status"], v["attempts"]) for k, v in by_id(world.failures).items()} == {"3": ("retry", 1), "7": ("retry", 1)}
    assert_consistent(world, p, expect_pending=2)

    world.faults = {"3": TRANSIENT}  # ticket 7 went through this time
    second = world.refresh(p)
    assert sorted(second.sent_ids) == ["3", "7"]  # only the rows to retry
    assert by_id(world.embeddings)["7"]["attempts"] == 2
    assert by_id(world.failures)["3"]["attempts"] == 2 and by_id(world.failures)["3"]["status"] == "retry"

    third = world.refresh(p)
    assert third.sent_ids == ["3"]
    gave_up = by_id(world.failures)["3"]
    assert (gave_up["status"], gave_up["attempts"], gave_up["error"]) == ("failed", 3, TRANSIENT)
    assert_consistent(world, p)

    world.faults = {}
    assert world.refresh(p).sent == 0  # failed for good: not sent again while its text stays the same
    world.source.rows[2]["body"] = "ticket 3, reworded"
    fourth = world.refresh(p)
    assert fourth.sent_ids == ["3"] and by_id(world.embeddings)["3"]["attempts"] == 1  # an edit starts afresh
    assert_consistent(world, p)


def test_quota_rejections_use_no_attempt_and_are_retried_until_the_quota_returns(world: World) -> None:
    p = plan(batch_size=10, max_attempts=3)
    world.faults = {str(i): RETRYABLE for i in range(13, 25)}  # the quota ran out half-way
    for _ in range(5):  # more runs than maxAttempts
        run = world.refresh(p)
        assert {k: (v["status"], v["attempts"]) for k, v in by_id(world.failures).items()} == {str(i): ("retry", 0) for i in range(13, 25)}
        assert_consistent(world, p, expect_pending=12)
    assert sorted(run.sent_ids, key=int) == [str(i) for i in range(13, 25)]  # each run retries exactly them
    world.faults = {}
    assert sorted(world.refresh(p).sent_ids, key=int) == [str(i) for i in range(13, 25)]
    assert world.failures == [] and len(world.embeddings) == 24
    assert_consistent(world, p)


def test_a_permanent_failure_is_kept_with_its_reason_and_not_retried(world: World) -> None:
    p = plan()
    reason = "Invalid argument: content is not valid UTF-8 text"
    world.faults = {"12": reason}
    world.refresh(p)
    kept = by_id(world.failures)["12"]
    assert (kept["status"], kept["attempts"], kept["error"], kept["content"]) == ("failed", 1, reason, world.source.rows[11]["body"])
    assert world.refresh(p).sent == 0
    status = assert_consistent(world, p)
    assert status["failed_by_reason"] == [{"reason": reason, "rows": 1}]


def test_a_model_change_re_embeds_everything_and_keeps_one_vector_length(world: World) -> None:
    old = plan(batch_size=6)
    world.refresh(old)
    new = plan(fake_model(seed="v2", dims=6), batch_size=6)
    assert new.model_version != old.model_version

    killed = world.refresh(new, kill_after_batches=1)
    # The first batch of 6-long vectors removed every 4-long one: the column never mixes lengths.
    assert {len(row["embedding"]) for row in world.embeddings} == {6}
    assert len(world.embeddings) == killed.embedded and killed.outcome == "killed"

    world.tables[TABLES.lease].rows[0]["expires_at"] = world.tables[TABLES.lease].rows[0]["expires_at"].replace(year=2000)
    run = world.refresh(new)
    assert sorted(killed.sent_ids + run.sent_ids) == sorted(str(i) for i in range(1, 25))
    assert_consistent(world, new)
    assert all(row["model_version"] == new.model_version for row in world.embeddings)


def test_a_model_change_with_the_same_length_keeps_old_rows_searchable_until_replaced(world: World) -> None:
    world.refresh(plan(batch_size=8))
    new = plan(fake_model(seed="v2"), batch_size=8)
    killed = world.refresh(new, kill_after_batches=1)
    versions = [row["model_version"] for row in world.embeddings]
    assert 0 < versions.count(new.model_version) == killed.embedded < 24 and len(versions) == 24


def test_a_run_killed_midway_then_run_again_leaves_no_duplicate_and_nothing_missing(world: World) -> None:
    p = plan(batch_size=4)
    world.source.rows += tickets(16, start=25)  # 40 rows, 10 batches
    killed = world.refresh(p, kill_after_batches=3, kill_in_transaction=True)
    assert killed.batches == 3 and len(world.embeddings) == killed.embedded  # the 4th batch rolled back whole

    # The killed run still holds the lease: a run now leaves at once, and says so.
    skipped = world.refresh(p)
    assert skipped.outcome.startswith("skipped") and skipped.sent == 0
    assert world.tables[TABLES.runs].rows[-1]["outcome"] == skipped.outcome

    lease = world.tables[TABLES.lease].rows[0]
    lease["expires_at"] = lease["expires_at"].replace(year=2000)  # the lease lapses (2 x the time budget)
    again = world.refresh(p)
    assert again.outcome == "done"
    assert sorted(killed.sent_ids + again.sent_ids) == sorted(str(i) for i in range(1, 41))
    assert not set(killed.sent_ids) & set(again.sent_ids)  # what was committed is not sent again
    assert len(by_id(world.embeddings)) == 40
    assert_consistent(world, p)


def test_a_run_whose_lease_was_taken_over_stops_at_its_next_batch_and_rolls_it_back(world: World) -> None:
    old = plan(batch_size=6)
    takeover = sql.render("corpus/lease_takeover", lease=TABLES.lease, model="fake")

    def new_procedure_takes_over(run: Any) -> None:  # `pulumi up` with a new model, while this run works
        if run.batches == 1:
            world.modify(TABLES.lease, takeover)

    stopped = world.refresh(old, between_batches=new_procedure_takes_over)
    assert stopped.outcome == "failed: this refresh lost its lease: a newer run or procedure took over"
    assert stopped.batches == 1 and len(world.embeddings) == stopped.embedded  # the second batch rolled back whole
    assert world.tables[TABLES.runs].rows[-1]["outcome"] == stopped.outcome
    new = plan(fake_model(seed="v2", dims=6), batch_size=6)
    run = world.refresh(new)
    assert run.outcome == "done" and sorted(run.sent_ids, key=int) == [str(i) for i in range(1, 25)]
    assert_consistent(world, new)


def test_overlapping_runs_one_works_the_other_leaves_and_a_batch_applied_twice_stays_single(world: World) -> None:
    p = plan(batch_size=24)
    s = p.statements(refresh.PARAMETERS)
    world.modify(TABLES.lease, s.lease_seed)
    assert world.modify(TABLES.lease, s.lease_take, run_id="run-a") == 1
    assert world.modify(TABLES.lease, s.lease_take, run_id="run-b") == 0  # BigQuery serialises the two UPDATEs
    world.modify(TABLES.lease, s.lease_release, run_id="run-b")  # not its lease: nothing released
    assert world.tables[TABLES.lease].rows[0]["holder"] == "run-a"
    world.modify(TABLES.lease, s.lease_release, run_id="run-a")

    # Two runs that planned from the same snapshot (a lease lapsed mid-run): applying one batch twice.
    world.tables["_todo"] = world.query(s.todo)
    world.tables["_batch"] = world.query(s.batch, low=0, high=refresh.SLOTS)
    world.tables["_embedded"] = world.query(s.embed)
    for _ in range(2):
        for target, statement in ((TABLES.embeddings, s.clear_embeddings), (TABLES.failures, s.clear_failures),
                                  (TABLES.embeddings, s.insert_embedded), (TABLES.failures, s.insert_failed)):
            world.modify(target, statement)
    assert len(by_id(world.embeddings)) == 24
    assert_consistent(world, p)


def test_several_key_columns_never_collide_and_rows_without_a_key_are_left_out(googlesql: Engine) -> None:
    rows = [
        {"ticket_id": 1, "line": 23, "body": "one", "priority": None},
        {"ticket_id": 12, "line": 3, "body": "two", "priority": None},  # "1"+"23" == "12"+"3" if concatenated
        {"ticket_id": 12, "line": 3, "body": "two, repeated key", "priority": None},
        {"ticket_id": None, "line": 4, "body": "no key", "priority": None},
    ]
    world = World(googlesql, Table(SOURCE_COLUMNS, rows))
    p = plan(key=("ticket_id", "line"))
    run = world.refresh(p)
    assert sorted(run.sent_ids) == ['{"ticket_id":1,"line":23}', '{"ticket_id":12,"line":3}']
    kept = by_id(world.embeddings)['{"ticket_id":12,"line":3}']["content"]
    assert kept in ("two", "two, repeated key")
    world.source.rows.reverse()
    assert world.refresh(p).sent == 0  # a repeated key keeps the same row whatever the order: nothing flips
    assert by_id(world.embeddings)['{"ticket_id":12,"line":3}']["content"] == kept
    status = world.status(p)
    assert (status["source_rows"], status["embedded"], status["pending"], status["failed"]) == (2, 2, 0, 0)


def test_every_statement_parses_as_googlesql_and_the_procedure_as_a_script(googlesql: Engine) -> None:
    from infra.bigquery import embedding

    for embedder in (embedding.imported("p-roj.d.nnlm_model", "text_embedding"), embedding.endpoint("p-roj.d.bert_model"), embedding.managed("p-roj.d.m")):
        p = refresh.Refresh(**{**plan().__dict__, "embedder": embedder})
        googlesql.parse(p.procedure(), script=True)
        googlesql.parse(p.index(replace=True), script=True)
        for statement in p.statements(refresh.PARAMETERS).__dict__.values():
            googlesql.parse(statement, script=False)
        for statement in p.statements(refresh.SCRIPT).__dict__.values():  # as the procedure holds them
            assert not isinstance(bigquery_parse(statement), exp.Command), statement  # sqlglot's BigQuery dialect reads each
