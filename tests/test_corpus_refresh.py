"""The corpus refresh procedure, executed from its own text on the GoogleSQL engine: which rows it touches, and nothing else.

Every scenario CALLs the procedure the product declares (tests/corpus_runs.py: the
script interpreted around the engine, BigQuery's transaction rules, a deterministic
stand-in for the model) and asserts the tables afterwards, the rows sent to the model
against an independent reckoning of the rows that needed it, and the invariant
"source rows = embedded + pending + failed" from the status view's own SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from sqlglot import exp

from bqml_text_embeddings.bigquery import embedding, sql
from bqml_text_embeddings.corpus import refresh
from tests.bigquery_sql import parse as bigquery_parse
from tests.corpus_runs import DATASET, RETRYABLE, SOURCE, TABLES, TRANSIENT, Fault, World, fake_model, plan, tables_for
from tests.googlesql import Engine, Table
from tests.googlesql.script import Step

SOURCE_COLUMNS = [("ticket_id", "INT64"), ("line", "INT64"), ("body", "STRING"), ("priority", "STRING"), ("updated_at", "TIMESTAMP")]
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def tickets(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [
        {"ticket_id": i, "line": 1, "body": f"ticket {i}: the printer on floor {i % 7} is jammed", "priority": "p2", "updated_at": T0}
        for i in range(start, start + count)
    ]


@pytest.fixture
def world(googlesql: Engine) -> World:
    return World(googlesql, Table(SOURCE_COLUMNS, tickets(24)))


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [row["doc_id"] for row in rows]
    assert len(ids) == len(set(ids)), f"duplicate doc_id: {sorted(i for i in ids if ids.count(i) > 1)}"
    return {row["doc_id"]: row for row in rows}


def source_texts(world: World) -> dict[str, str | None]:
    return {str(row["ticket_id"]): row["body"] for row in world.source.rows if row["ticket_id"] is not None}


def before(kind: str, nth: int = 1, where: Callable[[Step], bool] = lambda _: True) -> Callable[[Step], bool]:
    """Picks the nth statement of a kind (UpdateStatement, CommitStatement, ...): a run is killed just before it."""
    seen = 0

    def pick(step: Step) -> bool:
        nonlocal seen
        if step.kind == kind and where(step):
            seen += 1
        return seen == nth and step.kind == kind and where(step)

    return pick


def assert_consistent(world: World, p: refresh.Refresh, expect_pending: int = 0, texts: dict[str, Any] | None = None) -> dict[str, Any]:
    """No key in both tables or twice in one; every embedded row matches the source; the status adds up."""
    t = p.tables
    embedded, failures = by_id(world.tables[t.embeddings].rows), by_id(world.tables[t.failures].rows)
    assert not set(embedded) & set(failures)
    texts = source_texts(world) if texts is None else texts
    for doc_id, row in embedded.items():
        assert row["content"] == texts[doc_id] and row["model_version"] == p.model_version and row["status"] == "embedded"
        assert len(row["embedding"]) == row["dims"] == p.embedder.length  # one vector length in the column, as the index needs
    status = world.status(p)
    current_failed = sum(1 for f in failures.values() if f["status"] == "failed" and f["model_version"] == p.model_version)
    assert status["source_rows"] == len(texts)
    assert status["embedded"] == len(embedded)
    assert status["failed"] == current_failed
    assert status["pending"] == expect_pending
    assert status["source_rows"] == status["embedded"] + status["pending"] + status["failed"]
    return status


# --- what a run does -------------------------------------------------------------------


def test_first_fill_embeds_every_row_once_in_batches_of_at_most_batch_size(world: World) -> None:
    world.source.rows[3]["body"] = "   "
    world.source.rows[5]["body"] = None
    p = plan(batch_size=5)
    run = world.refresh(p)

    assert run.error is None and run.outcome == "done"
    # 24 rows in key order ("1", "10", ..., "9"), 5 to a batch; "4" and "6", without text, are not sent.
    assert [len(call) for call in run.calls] == [5, 5, 5, 4, 3]
    assert sorted(run.sent_ids) == sorted(str(i) for i in range(1, 25) if i not in (4, 6))  # exactly once each
    failures = by_id(world.failures)
    assert {k: (v["status"], v["error"], v["attempts"]) for k, v in failures.items()} == {
        "4": ("failed", "no text to embed", 1),
        "6": ("failed", "no text to embed", 1),
    }
    status = assert_consistent(world, p)
    assert status["failed_by_reason"] == [{"reason": "no text to embed", "rows": 2}]
    assert status["last_refresh"]["outcome"] == "done" and status["last_refresh"]["sent"] == 22
    log = run.log
    assert (log["model"], log["batches"], log["sent"], log["embedded"], log["failed"], log["deleted"]) == ("fake", 5, 22, 22, 2, 0)
    assert world.tables[TABLES.lease].rows == [{"model": "fake", "holder": None, "expires_at": None}]


@pytest.mark.parametrize(("size", "rows"), [(1, 7), (3, 7), (7, 10), (10, 10), (4, 9)])
def test_batch_size_is_a_cap_whatever_the_keys(googlesql: Engine, size: int, rows: int) -> None:
    world = World(googlesql, Table(SOURCE_COLUMNS, tickets(rows, start=1000)))
    run = world.refresh(plan(batch_size=size))
    assert [len(call) for call in run.calls] == [size] * (rows // size) + ([rows % size] if rows % size else [])
    assert sorted(run.sent_ids) == sorted(str(i) for i in range(1000, 1000 + rows))  # no row twice, none skipped


def test_an_unchanged_source_embeds_nothing_and_changes_nothing(world: World) -> None:
    p = plan(batch_size=5)
    world.refresh(p)
    before_tables = (list(world.embeddings), list(world.failures))
    run = world.refresh(p)
    assert (run.sent, run.log["batches"], run.log["deleted"], run.outcome) == (0, 0, 0, "done")
    assert (world.embeddings, world.failures) == before_tables
    assert_consistent(world, p)


def test_edits_inserts_and_deletes_touch_exactly_those_rows(world: World) -> None:
    p = plan(batch_size=4)
    world.refresh(p)
    before_rows = by_id(world.embeddings)
    world.source.rows[0]["body"] = "ticket 1: the printer is fixed, the scanner is not"
    world.source.rows[1]["body"] = world.source.rows[1]["body"].upper()  # only the case changes: still an edit
    world.source.rows[9]["body"] += " (again)"
    world.source.rows[9]["priority"] = "p1"  # another column changing is not an edit of the text
    world.source.rows[10]["priority"] = "p0"
    del world.source.rows[20:22]  # tickets 21 and 22 leave
    world.source.rows += tickets(3, start=100)
    world.source.rows.append({"ticket_id": None, "line": 1, "body": "a row without its key", "priority": "p3", "updated_at": T0})

    run = world.refresh(p)
    assert sorted(run.sent_ids) == sorted(["1", "2", "10", "100", "101", "102"])
    assert run.log["deleted"] == 2  # a row without a key does not keep every departed key alive
    after = by_id(world.embeddings)
    assert set(after) == set(before_rows) - {"21", "22"} | {"100", "101", "102"}
    for untouched in set(before_rows) - {"1", "2", "10", "21", "22"}:
        assert after[untouched] == before_rows[untouched]  # not rewritten: same vector, same time
    assert after["1"]["content"].startswith("ticket 1: the printer is fixed") and after["1"]["embedding"] != before_rows["1"]["embedding"]
    assert_consistent(world, p)


def test_retryable_failures_are_retried_by_later_runs_up_to_the_limit(world: World) -> None:
    p = plan(batch_size=10, max_attempts=3)
    world.faults = {"3": Fault(TRANSIENT), "7": Fault(TRANSIENT)}
    first = world.refresh(p)
    assert first.sent == 24 and first.log["failed"] == 2
    assert {k: (v["status"], v["attempts"]) for k, v in by_id(world.failures).items()} == {"3": ("retry", 1), "7": ("retry", 1)}
    status = assert_consistent(world, p, expect_pending=2)
    assert status["pending_by_reason"] == [{"reason": TRANSIENT, "rows": 2}]  # why they are pending, where a user looks

    world.faults = {"3": Fault(TRANSIENT)}  # ticket 7 went through this time
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


def test_quota_rejections_are_free_up_to_a_bound_then_count_so_one_that_never_clears_ends_failed(world: World) -> None:
    p = plan(batch_size=10, max_attempts=2)
    world.faults = {str(i): Fault(RETRYABLE) for i in range(13, 25)}  # the quota ran out half-way
    for n in range(1, refresh.FREE_REJECTIONS + 1):  # more runs than maxAttempts: a passing quota costs nothing
        run = world.refresh(p)
        assert {k: (v["status"], v["attempts"], v["rejections"]) for k, v in by_id(world.failures).items()} == {
            str(i): ("retry", 0, n) for i in range(13, 25)
        }
        status = assert_consistent(world, p, expect_pending=12)
        assert status["pending_by_reason"] == [{"reason": RETRYABLE, "rows": 12}]
    assert sorted(run.sent_ids, key=int) == [str(i) for i in range(13, 25)]  # each run retries exactly them

    world.faults.pop("13")  # one clears; the others never do
    world.refresh(p)
    assert "13" in by_id(world.embeddings) and by_id(world.failures)["14"]["attempts"] == 1
    world.refresh(p)
    still = by_id(world.failures)["14"]
    assert (still["status"], still["attempts"], still["rejections"], still["error"]) == ("failed", 2, refresh.FREE_REJECTIONS + 2, RETRYABLE)
    status = assert_consistent(world, p)
    assert status["failed_by_reason"] == [{"reason": RETRYABLE, "rows": 11}]
    assert world.refresh(p).sent == 0


def test_a_permanent_failure_is_kept_with_its_reason_and_not_retried(world: World) -> None:
    p = plan()
    reason = "Invalid argument: content is not valid UTF-8 text"
    world.faults = {"12": Fault(reason)}
    world.refresh(p)
    kept = by_id(world.failures)["12"]
    assert (kept["status"], kept["attempts"], kept["error"], kept["content"]) == ("failed", 1, reason, world.source.rows[11]["body"])
    assert world.refresh(p).sent == 0
    status = assert_consistent(world, p)
    assert status["failed_by_reason"] == [{"reason": reason, "rows": 1}]


def test_lowering_max_attempts_stops_rows_already_past_it(world: World) -> None:
    world.faults = {"5": Fault(TRANSIENT)}
    for _ in range(4):
        world.refresh(plan(max_attempts=5))
    assert (by_id(world.failures)["5"]["status"], by_id(world.failures)["5"]["attempts"]) == ("retry", 4)
    lowered = plan(max_attempts=2)
    run = world.refresh(lowered)
    assert run.sent == 0  # not sent a 5th time
    assert by_id(world.failures)["5"]["status"] == "failed"
    assert assert_consistent(world, lowered)["failed_by_reason"] == [{"reason": TRANSIENT, "rows": 1}]


def test_lowering_max_attempts_to_a_rows_attempts_fails_it_too(world: World) -> None:
    world.faults = {"5": Fault(TRANSIENT)}
    for _ in range(2):
        world.refresh(plan(max_attempts=5))
    lowered = plan(max_attempts=2)  # exactly the attempts it used
    assert world.refresh(lowered).sent == 0
    assert (by_id(world.failures)["5"]["status"], by_id(world.failures)["5"]["attempts"]) == ("failed", 2)
    assert_consistent(world, lowered)


def _counts(world: World, p: refresh.Refresh) -> tuple[int, int, int]:
    status = world.status(p)
    return status["embedded"], status["pending"], status["failed"]


def test_the_status_counts_only_rows_of_this_text_and_model_version_as_embedded_or_failed(world: World) -> None:
    p = plan()
    world.faults = {"12": Fault("Invalid argument: refused"), "20": Fault(TRANSIENT)}
    world.refresh(p)
    assert _counts(world, p) == (22, 1, 1)  # 20 waits for a retry: pending, not failed
    # A new model version: nothing of the old one counts, embedded or failed, until it is embedded again.
    assert _counts(world, plan(fake_model(seed="v2"))) == (0, 24, 0)
    world.source.rows[2]["body"] = "ticket 3, edited"  # its stored vector is of the old text
    world.source.rows[11]["body"] = "ticket 12, edited"  # so is its failure
    assert _counts(world, p) == (21, 3, 0)


def test_a_new_model_version_starts_a_rows_attempts_and_rejections_afresh(world: World) -> None:
    world.faults = {"3": Fault(TRANSIENT), "4": Fault(RETRYABLE)}
    for _ in range(2):
        world.refresh(plan(max_attempts=5))
    assert {k: (v["attempts"], v["rejections"]) for k, v in by_id(world.failures).items()} == {"3": (2, 0), "4": (0, 2)}
    new = plan(fake_model(seed="v2"), max_attempts=5)
    world.refresh(new)
    assert {k: (v["attempts"], v["rejections"], v["model_version"]) for k, v in by_id(world.failures).items()} == {
        "3": (1, 0, new.model_version),
        "4": (0, 1, new.model_version),
    }


def test_the_reasons_are_this_versions_and_texts_by_status_most_rows_first(world: World) -> None:
    p = plan()
    a, b = "Invalid argument: A", "Invalid argument: B"
    world.faults = {"3": Fault(TRANSIENT), "5": Fault(a), "6": Fault(b), "7": Fault(b)}
    world.refresh(p)
    status = world.status(p)
    assert status["failed_by_reason"] == [{"reason": b, "rows": 2}, {"reason": a, "rows": 1}]
    assert status["pending_by_reason"] == [{"reason": TRANSIENT, "rows": 1}]
    world.source.rows[5]["body"] = "ticket 6, edited"  # its failure was of the old text
    assert world.status(p)["failed_by_reason"] == [{"reason": a, "rows": 1}, {"reason": b, "rows": 1}]


def test_each_models_status_shows_its_own_last_refresh(googlesql: Engine) -> None:
    world = World(googlesql, Table(SOURCE_COLUMNS, tickets(24)), models=("fake", "other"))
    first, other = plan(name="fake", batch_size=5), plan(fake_model(seed="o"), name="other", batch_size=24)
    world.refresh(first)
    world.refresh(other)  # the corpus's run log now ends with the other model's run
    assert (world.status(first)["last_refresh"]["batches"], world.status(other)["last_refresh"]["batches"]) == (5, 1)


# --- vectors ---------------------------------------------------------------------------


def test_a_vector_of_another_length_or_with_a_null_is_a_failure_never_a_row(world: World) -> None:
    p = plan(batch_size=8)
    world.faults = {"2": Fault(dims=3), "9": Fault(dims=5), "17": Fault(null_value=True)}
    world.refresh(p)
    assert {len(row["embedding"]) for row in world.embeddings} == {4} and len(world.embeddings) == 21
    reasons = {k: (v["status"], v["error"]) for k, v in by_id(world.failures).items()}
    assert reasons == {
        "2": ("failed", "the model returned 3 values, not the 4 of its vectors"),
        "9": ("failed", "the model returned 5 values, not the 4 of its vectors"),
        "17": ("failed", "the model returned a vector with a NULL value"),
    }
    assert_consistent(world, p)


def test_a_model_whose_length_the_stack_does_not_know_keeps_the_length_of_its_first_vectors(world: World) -> None:
    p = plan(fake_model(known=False), batch_size=6)
    world.faults = {"1": Fault(dims=7), "8": Fault(dims=7)}  # a short first batch must not decide the length
    world.refresh(p)
    assert {len(row["embedding"]) for row in world.embeddings} == {4}
    assert sorted(by_id(world.failures)) == ["1", "8"]
    world.faults = {"3": Fault(dims=2)}
    world.source.rows[2]["body"] = "ticket 3, edited"
    world.refresh(p)  # a later run learns the length from the stored vectors
    assert by_id(world.failures)["3"]["error"] == "the model returned 2 values, not the 4 of its vectors"


def test_a_model_change_re_embeds_everything_and_keeps_one_vector_length(world: World) -> None:
    old = plan(batch_size=6)
    world.faults = {"5": Fault("Invalid argument: refused by v1")}
    world.refresh(old)
    world.faults = {}
    new = plan(fake_model(seed="v2", dims=6), batch_size=6)
    assert new.model_version != old.model_version

    killed = world.refresh(new, kill=before("CreateTableStatement", where=lambda s: "_batch AS" in s.text, nth=2))
    # The first batch of 6-long vectors removed every 4-long one: the column never mixes lengths.
    assert {len(row["embedding"]) for row in world.embeddings} == {6}
    assert len(world.embeddings) == 6 and killed.outcome == "killed"

    world.db.clock.now += dt.timedelta(minutes=2 * new.time_budget_minutes + 1)  # the killed run's lease lapses
    run = world.refresh(new)
    assert sorted(killed.sent_ids + run.sent_ids) == sorted(str(i) for i in range(1, 25))  # a row failed by v1 is tried by v2
    assert_consistent(world, new)
    assert all(row["model_version"] == new.model_version for row in world.embeddings)


def test_a_model_change_with_the_same_length_keeps_old_rows_searchable_until_replaced(world: World) -> None:
    world.refresh(plan(batch_size=8))
    new = plan(fake_model(seed="v2"), batch_size=8)
    killed = world.refresh(new, kill=before("CreateTableStatement", where=lambda s: "_batch AS" in s.text, nth=2))
    versions = [row["model_version"] for row in world.embeddings]
    assert versions.count(new.model_version) == 8 and len(versions) == 24 and killed.outcome == "killed"


# --- repeated keys and key types -------------------------------------------------------


def ticket(ticket_id: Any, body: str | None, updated: int = 0, line: int = 1) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "line": line, "body": body, "priority": None, "updated_at": T0 + dt.timedelta(days=updated)}


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_of_repeated_keys_a_row_with_text_beats_a_blank_one_in_any_order(googlesql: Engine, blank: str | None) -> None:
    rows = [ticket(1, blank), ticket(1, "the real text"), ticket(1, blank), ticket(2, "two")]
    for order in range(4):
        world = World(googlesql, Table(SOURCE_COLUMNS, rows[order:] + rows[:order]))
        p = plan()
        world.refresh(p)
        assert by_id(world.embeddings)["1"]["content"] == "the real text" and world.failures == []
        status = world.status(p)
        assert (status["source_rows"], status["embedded"], status["repeated_keys"]) == (2, 2, 1)


def test_newest_by_picks_the_newest_copy_so_an_edit_of_it_is_embedded(googlesql: Engine) -> None:
    world = World(googlesql, Table(SOURCE_COLUMNS, [ticket(7, "old words", updated=1), ticket(7, "new words", updated=2), ticket(8, "eight")]))
    p = plan(newest_by="updated_at")
    world.refresh(p)
    assert by_id(world.embeddings)["7"]["content"] == "new words"
    world.source.rows[1].update(body="newer words, edited", updated_at=T0 + dt.timedelta(days=3))
    run = world.refresh(p)
    assert run.sent_ids == ["7"] and by_id(world.embeddings)["7"]["content"] == "newer words, edited"
    world.source.rows[0].update(body="the other copy, edited last", updated_at=T0 + dt.timedelta(days=4))
    assert world.refresh(p).sent_ids == ["7"] and by_id(world.embeddings)["7"]["content"] == "the other copy, edited last"
    assert_consistent(world, p, texts={"7": "the other copy, edited last", "8": "eight"})


def test_any_language_and_reserved_column_names_embed_exactly_and_an_edit_is_seen(googlesql: Engine) -> None:
    """Korean, emoji, right-to-left and combining text round-trip untouched, from columns named as SQL keywords."""
    texts = {
        1: "프린터가 3층에서 걸렸어요",
        2: "printer jammed again 🖨️🔥 (third time)",
        3: "המדפסת תקועה שוב",
        4: "الطابعة عالقة مرة أخرى",
        5: "café – naïve résumé with e\u0301 combining",  # noqa: RUF001 - the en dash is the point
        6: "混合 text: 日本語とEnglish",
    }
    columns = [("order", "INT64"), ("select", "STRING"), ("current_date", "TIMESTAMP")]
    world = World(googlesql, Table(columns, [{"order": k, "select": v, "current_date": T0} for k, v in texts.items()]))
    p = dataclasses.replace(plan(), source=refresh.Source(SOURCE, ("order",), "select", "current_date"))
    assert sorted(world.refresh(p).sent_ids) == [str(k) for k in texts]
    assert {row["doc_id"]: row["content"] for row in world.embeddings} == {str(k): v for k, v in texts.items()}
    assert world.refresh(p).sent == 0  # a fingerprint of the exact text: nothing looks edited
    world.source.rows[0]["select"] = "프린터가 4층에서 걸렸어요"
    assert world.refresh(p).sent_ids == ["1"]
    assert by_id(world.embeddings)["1"]["content"] == "프린터가 4층에서 걸렸어요"


def test_every_repeated_key_is_listed_with_its_count(googlesql: Engine) -> None:
    rows = [ticket(1, "a"), ticket(1, None), ticket(1, "b"), ticket(2, "c"), ticket(3, "d"), ticket(3, "e"), ticket(None, "f")]
    world = World(googlesql, Table(SOURCE_COLUMNS, rows))
    listed = googlesql.query(str(plan().source.repeated_keys()), world.db.view(None)).rows
    assert sorted((r["doc_id"], r["copies"], r["copies_with_text"]) for r in listed) == [("1", 3, 2), ("3", 2, 2)]


def test_several_key_columns_never_collide_and_rows_without_a_key_are_left_out(googlesql: Engine) -> None:
    rows = [
        ticket(1, "one", line=23),
        ticket(12, "two", line=3),  # "1"+"23" == "12"+"3" if concatenated
        ticket(12, "two, repeated key", line=3),
        {**ticket(None, "no key"), "line": 4},
    ]
    world = World(googlesql, Table(SOURCE_COLUMNS, rows))
    p = plan(key=("ticket_id", "line"))
    run = world.refresh(p)
    assert sorted(run.sent_ids) == ['{"ticket_id":1,"line":23}', '{"ticket_id":12,"line":3}']
    kept = by_id(world.embeddings)['{"ticket_id":12,"line":3}']["content"]
    world.source.rows.reverse()
    assert world.refresh(p).sent == 0  # a repeated key keeps the same row whatever the order: nothing flips
    assert by_id(world.embeddings)['{"ticket_id":12,"line":3}']["content"] == kept
    status = world.status(p)
    assert (status["source_rows"], status["embedded"], status["pending"], status["failed"], status["repeated_keys"]) == (2, 2, 0, 0, 1)


@pytest.mark.parametrize(
    ("kind", "keys"),
    [
        ("BYTES", [b"\xff\xfe", b"\\xff\\xfe", b"plain", b""]),  # not UTF-8, its escaped spelling, empty: all distinct
        ("STRING", ["a", "A", "", "\\x41"]),
        ("NUMERIC", [__import__("decimal").Decimal("1.5"), __import__("decimal").Decimal("15")]),
        ("DATE", [dt.date(2026, 1, 2), dt.date(2026, 1, 20)]),
        ("TIMESTAMP", [T0, T0 + dt.timedelta(microseconds=1)]),
        ("BOOL", [True, False]),
    ],
)
def test_every_key_type_bigquery_can_group_by_is_a_key(googlesql: Engine, kind: str, keys: list[Any]) -> None:
    columns = [("id", kind), ("body", "STRING")]
    world = World(googlesql, Table(columns, [{"id": k, "body": f"text {i}"} for i, k in enumerate(keys)]))
    p = plan(key=("id",))
    run = world.refresh(p)
    assert run.error is None and len(set(run.sent_ids)) == len(keys)
    assert world.refresh(p).sent == 0  # the same ids next time
    assert len(world.embeddings) == len(keys)


# --- deletions -------------------------------------------------------------------------


def test_an_empty_source_deletes_nothing_fails_the_run_and_says_how_to_accept(world: World) -> None:
    p = plan()
    world.refresh(p)
    kept = list(world.embeddings)
    world.source.rows.clear()  # a truncate-and-reload caught half-way
    run = world.refresh(p)
    assert world.embeddings == kept  # nothing deleted
    message = (
        "refused to delete 24 of the 24 rows kept for corpus tickets by fake (more than 10%): their keys left acme-data.support.tickets. "
        "If the table is only empty or partial for now, reload it and run again; if the rows are truly gone, "
        f"CALL `{p.procedure_id}`(100) once."
    )
    assert run.error == message  # the CALL fails: the scheduled run's notification fires
    assert run.outcome == f"failed: {message}" and world.status(p)["last_refresh"]["outcome"] == run.outcome
    assert world.tables[TABLES.lease].rows[0]["holder"] is None  # released

    world.source.rows += tickets(24)  # reloaded: nothing to do
    assert world.refresh(p).sent == 0 and len(world.embeddings) == 24
    world.source.rows.clear()
    accepted = world.refresh(p, max_delete_percent=100)  # truly gone: the documented one-off CALL
    assert (accepted.error, accepted.log["deleted"], world.embeddings) == (None, 24, [])


def test_a_partial_source_over_the_limit_is_refused_and_small_deletions_go_through(world: World) -> None:
    p = plan(max_delete_percent=10)
    world.faults = {"3": Fault("Invalid argument: no")}  # failures count in the corpus and in what leaves
    world.refresh(p)
    del world.source.rows[:3]  # 3 of 24 leave: 12.5%
    refused = world.refresh(p)
    assert refused.error.startswith("refused to delete 3 of the 24 rows") and len(world.embeddings) + len(world.failures) == 24
    assert world.refresh(plan(max_delete_percent=13)).log["deleted"] == 3
    del world.source.rows[:2]  # 2 of 21 leave: 9.5%
    assert world.refresh(p).log["deleted"] == 2


# --- leases, kills and runs side by side ------------------------------------------------


@pytest.mark.parametrize("kind", ["CommitStatement", "InsertStatement", "DeleteStatement", "BeginStatement"])
def test_a_run_killed_at_any_statement_then_run_again_leaves_no_duplicate_and_nothing_missing(world: World, kind: str) -> None:
    p = plan(batch_size=4)
    world.source.rows += tickets(16, start=25)  # 40 rows, 10 batches
    killed = world.refresh(p, kill=before(kind, nth=3, where=lambda s: s.in_transaction or kind == "BeginStatement"))
    assert killed.outcome == "killed" and world.db.open == []  # its open transaction rolled back
    committed = {row["doc_id"] for row in world.embeddings}
    assert committed == {doc_id for call in killed.calls[:-1] for doc_id in call}  # the batch under way rolled back whole

    skipped = world.refresh(p)  # the killed run still holds the lease: a run now leaves at once, and says so
    assert skipped.outcome.startswith("skipped") and skipped.sent == 0

    world.db.clock.now += dt.timedelta(minutes=2 * p.time_budget_minutes + 1)  # the lease lapses
    again = world.refresh(p)
    assert again.outcome == "done"
    assert committed and not committed & set(again.sent_ids)  # what was committed is not sent again
    assert set(killed.sent_ids) | set(again.sent_ids) == {str(i) for i in range(1, 41)}
    assert len(by_id(world.embeddings)) == 40
    assert_consistent(world, p)


def test_a_run_killed_before_any_of_its_statements_recovers_on_the_next_run(googlesql: Engine) -> None:
    p = plan(batch_size=3)
    whole = World(googlesql, Table(SOURCE_COLUMNS, tickets(6)))
    statements = sum(1 for _ in whole.start(p).steps())
    for nth in range(1, statements + 1):
        world = World(googlesql, Table(SOURCE_COLUMNS, tickets(6)))
        world.source.rows[0]["body"] = None
        count = 0

        def at(_step: Step, nth: int = nth) -> bool:
            nonlocal count
            count += 1
            return count == nth

        world.refresh(p, kill=at)
        assert world.db.open == [], nth
        world.db.clock.now += dt.timedelta(minutes=2 * p.time_budget_minutes + 1)
        assert world.refresh(p).outcome == "done", nth
        assert len(by_id(world.embeddings)) == 5 and len(by_id(world.failures)) == 1, nth
        assert_consistent(world, p)


def test_a_run_whose_lease_was_taken_over_stops_at_its_next_batch_and_counts_what_it_sent(world: World) -> None:
    old = plan(batch_size=6)
    takeover = str(sql.render("corpus/lease_takeover", lease=TABLES.lease, model="fake"))
    run = world.start(old)
    for step in run.steps():  # `pulumi up` with a new model, after the second batch's model call
        if step.kind == "UpdateStatement" and "SET expires_at" in step.text and len(run.calls) == 2:
            world.execute(takeover)
    assert run.error == "this refresh lost its lease: a newer run or procedure took over"
    assert run.outcome == f"failed: {run.error}"
    assert len(world.embeddings) == 6 == run.log["embedded"]  # the second batch never wrote
    assert run.log["sent"] == 12 == run.sent  # but it was sent (and billed): counted
    new = plan(fake_model(seed="v2", dims=6), batch_size=6)
    assert world.refresh(new).outcome == "done"
    assert_consistent(world, new)


def test_a_takeover_during_a_batch_transaction_waits_for_it_then_stops_the_run(world: World) -> None:
    p = plan(batch_size=6)
    takeover = str(sql.render("corpus/lease_takeover", lease=TABLES.lease, model="fake"))
    run = world.start(p)
    for step in run.steps():
        if step.kind == "DeleteStatement" and step.in_transaction and len(run.calls) == 2:
            world.execute(takeover)  # inside the transaction's snapshot the lease is still held
    assert run.error == "this refresh lost its lease: a newer run or procedure took over"
    assert len(world.embeddings) == 12  # the batch under way committed whole; the next one stopped


def test_a_takeover_between_the_renewal_and_the_transaction_stops_the_batch_before_it_writes(world: World) -> None:
    p = plan(batch_size=6)
    takeover = str(sql.render("corpus/lease_takeover", lease=TABLES.lease, model="fake"))
    run = world.start(p)
    for step in run.steps():
        if step.kind == "BeginStatement" and len(run.calls) == 2:
            world.execute(takeover)  # renewed a statement ago; the transaction's snapshot sees the lease gone
    assert run.error == "this refresh lost its lease: a newer run or procedure took over"
    assert len(world.embeddings) == 6  # only the first batch


def test_a_run_that_lost_its_lease_leaves_the_new_holders_lease_as_it_is(world: World) -> None:
    """A run that lost the lease changes nothing more: neither its renewal nor its release touches the new holder's row."""
    p = plan(batch_size=6)
    takeover = str(sql.render("corpus/lease_takeover", lease=TABLES.lease, model="fake"))
    old, new = world.start(p), world.start(plan(fake_model(seed="v2"), batch_size=6))
    newer = new.steps()
    for step in old.steps():
        if step.kind == "UpdateStatement" and "SET expires_at" in step.text and len(old.calls) == 2:
            world.execute(takeover)  # `pulumi up` with a new model: the old run's first fill cancelled, the new one started
            while not (world.tables[TABLES.lease].rows[0]["holder"] or "").strip():
                next(newer)  # the new run takes the lease
            held = dict(world.tables[TABLES.lease].rows[0])
    assert old.error == "this refresh lost its lease: a newer run or procedure took over"
    assert world.tables[TABLES.lease].rows[0] == held  # still the new run's, expiry untouched
    list(newer)
    assert new.outcome == "done"


def test_a_run_whose_first_statements_take_long_keeps_its_lease(world: World) -> None:
    """The lease is taken for twice the time budget, not renewed until the first batch: a slow start keeps it."""
    p = plan(batch_size=6, time_budget_minutes=60)
    first = world.start(p)
    steps = first.steps()
    for step in steps:
        if step.kind == "CreateTableStatement" and "_todo" in step.text:
            world.db.clock.now += dt.timedelta(minutes=30)  # reading a large source takes a while
            second = world.refresh(p)
            break
    list(steps)
    assert second.outcome.startswith("skipped") and first.outcome == "done"


def test_a_lease_is_held_until_strictly_after_it_expires(world: World) -> None:
    p = plan(batch_size=24)
    holder = world.start(p)
    steps = holder.steps()
    for step in steps:
        if step.kind == "BeginStatement":
            break  # holding the lease, mid-run
    expires = world.tables[TABLES.lease].rows[0]["expires_at"]
    other = world.start(p)
    for step in other.steps():
        if step.kind == "UpdateStatement" and "SET holder = run_id" in step.text:
            world.db.clock.now = expires - world.db.clock.step  # this statement runs at the very instant it expires
    assert other.outcome.startswith("skipped")
    holder.script.kill()


def test_a_batch_answered_mostly_with_empty_vectors_does_not_set_the_length_of_a_model_unknown_beforehand(world: World) -> None:
    p = plan(fake_model(known=False), batch_size=5)
    world.faults = {str(i): Fault(dims=0) for i in (1, 10, 11)}  # "1", "10", "11", "12", "13": the first batch, 3 of 5 empty
    world.refresh(p)
    assert {len(row["embedding"]) for row in world.embeddings} == {4} and len(world.embeddings) == 21
    assert {by_id(world.failures)[k]["error"] for k in ("1", "10", "11")} == {"the model returned an empty embedding"}


def test_a_batch_that_fails_rolls_back_whole_and_the_run_logs_why_and_what_it_sent(world: World) -> None:
    p = plan(batch_size=5)
    world.faults = {"14": Fault(statement_error="TensorFlow worker out of memory")}  # an imported model fails whole statements
    run = world.refresh(p)
    assert run.error == "TensorFlow worker out of memory"
    assert run.outcome == "failed: TensorFlow worker out of memory" and run.log["sent"] == 10 == run.sent
    assert len(world.embeddings) == 5 and world.tables[TABLES.lease].rows[0]["holder"] is None


def test_a_run_stops_starting_batches_after_its_time_budget_and_the_next_goes_on(world: World) -> None:
    p = plan(batch_size=4, time_budget_minutes=5)
    world.db.clock.step = dt.timedelta(seconds=10)  # a batch takes about 3 minutes
    runs = [world.refresh(p)]
    while runs[-1].outcome != "done":
        assert runs[-1].outcome == "time budget spent: the next run goes on" and 0 < runs[-1].log["batches"] < 6
        runs.append(world.refresh(p))
    sent = [doc_id for run in runs for doc_id in run.sent_ids]
    assert len(runs) >= 3 and sorted(sent, key=int) == [str(i) for i in range(1, 25)]  # each row once, across runs
    assert_consistent(world, p)


def test_an_unreadable_source_is_named_with_its_location(world: World) -> None:
    del world.db.tables[SOURCE]
    run = world.refresh(plan())
    assert run.error.startswith("refresh of tickets with fake cannot read acme-data.support.tickets from location US: ")
    assert run.error.endswith("the source table must be in US (copy it there, or set the stack location to the table location).")


def shuffled(seed: int) -> Callable[[int], int]:
    """Turns drawn at random (reproducibly): which run moves next."""
    draw = random.Random(seed)
    return lambda _turn: draw.randrange(2)


def test_two_models_of_one_corpus_run_side_by_side_without_aborting_each_other(googlesql: Engine) -> None:
    world = World(googlesql, Table(SOURCE_COLUMNS, tickets(24)), models=("fake", "other"))
    plans = [plan(name="fake", batch_size=5), plan(fake_model(seed="o", dims=6), name="other", batch_size=7)]
    for seed in range(4):  # round robin, then shuffled interleavings
        runs = [world.start(p) for p in plans]
        world.interleave(runs, None if seed == 0 else shuffled(seed))
        assert [(r.error, r.outcome) for r in runs] == [(None, "done"), (None, "done")]
        for p in plans:
            assert_consistent(world, p)
        world.source.rows[seed]["body"] += " (edited)"


def test_two_runs_of_one_model_one_works_and_the_other_leaves(world: World) -> None:
    p = plan(batch_size=5)
    scheduled, manual = world.start(p), world.start(p)
    world.interleave([scheduled, manual])
    outcomes = sorted(r.outcome for r in (scheduled, manual))
    assert outcomes == ["done", "skipped: another refresh of this model holds the lease"]
    assert scheduled.sent + manual.sent == 24
    assert_consistent(world, p)


def test_a_manual_run_during_a_long_scheduled_one_leaves_without_disturbing_it(world: World) -> None:
    p = plan(batch_size=4, time_budget_minutes=60)
    world.db.clock.step = dt.timedelta(seconds=15)  # a slow model: the run takes most of its budget
    scheduled = world.start(p)
    manual: list[Any] = []
    for step in scheduled.steps():
        if step.kind == "BeginStatement" and len(scheduled.calls) == 4:
            manual.append(world.refresh(p))  # half an hour in
    assert scheduled.outcome == "done" and manual[0].outcome.startswith("skipped")
    assert_consistent(world, p)


def test_in_the_harness_a_transaction_touching_a_table_another_open_transaction_touched_is_aborted(world: World) -> None:
    """The rule the runs above are held to, on its own (docs: transactions#transaction_concurrency)."""
    world.db.tables[TABLES.lease] = Table(world.tables[TABLES.lease].columns, [{"model": "a"}, {"model": "b"}])
    update = f"UPDATE `{TABLES.lease}` SET holder = 'x' WHERE model = '{{}}'"
    first = world.script(f"BEGIN TRANSACTION; {update.format('a')}; SELECT 1; COMMIT TRANSACTION;").steps()
    second = world.script(f"BEGIN TRANSACTION; {update.format('b')}; COMMIT TRANSACTION;")
    plain = world.script(f"{update.format('b')};")
    for _ in range(3):  # the first begins and updates; it now holds the table
        next(first)
    list(second.steps())  # another transaction updating a different row of it is aborted
    assert second.error == f"Transaction is aborted due to concurrent update against table {TABLES.lease}."
    waiting = plain.steps()
    next(waiting)
    assert next(waiting).blocked == TABLES.lease  # plain DML waits its turn
    list(first)
    list(waiting)
    assert plain.error is None and [row["holder"] for row in world.tables[TABLES.lease].rows] == ["x", "x"]


# --- the vector index ------------------------------------------------------------------


def test_the_vector_index_waits_for_a_table_of_10_mb(world: World) -> None:
    p = plan()
    world.refresh(p)
    assert world.db.recorded == []  # a few KB: BigQuery would leave an index unpopulated
    world.db.reported_size[TABLES.embeddings] = refresh.MIN_INDEX_BYTES - 1
    world.refresh(p)
    assert world.db.recorded == []
    world.db.reported_size[TABLES.embeddings] = refresh.MIN_INDEX_BYTES
    run = world.refresh(p)
    (made,) = world.db.recorded
    assert made == (
        f"CREATE VECTOR INDEX IF NOT EXISTS `tickets_fake_embedding_index` ON `{TABLES.embeddings}`(embedding)\n"
        "  STORING (model_version)\n  OPTIONS (index_type = 'IVF', distance_type = 'COSINE')"
    )
    assert run.outcome == "done"


def test_an_index_that_cannot_be_made_leaves_a_committed_run_done_with_the_reason(world: World) -> None:
    world.db.reported_size[TABLES.embeddings] = 50 * refresh.MIN_INDEX_BYTES
    world.db.record_error = "Quota exceeded: too many vector index DDL statements on this table today"
    run = world.refresh(plan(batch_size=10))
    assert run.error is None and len(world.embeddings) == 24
    assert run.outcome == "done; the vector index was not made: Quota exceeded: too many vector index DDL statements on this table today"


# --- the statements themselves -----------------------------------------------------------


def test_every_statement_parses_as_googlesql_and_the_procedure_as_a_script(googlesql: Engine) -> None:
    for embedder in (
        embedding.imported("p-roj.d.nnlm_model", "text_embedding", 50),
        embedding.endpoint("p-roj.d.bert_model", 768),
        embedding.managed("p-roj.d.m", "some-new-embedding-model"),
    ):
        p = refresh.Refresh(**{**plan().__dict__, "embedder": embedder})
        googlesql.parse(p.procedure(), script=True)
        googlesql.parse(p.index(replace=True), script=True)
        googlesql.parse(p.status(), script=False)
        for statement in p.statements().__dict__.values():
            googlesql.parse(statement, script=False)
            assert not isinstance(bigquery_parse(statement), exp.Command), statement  # sqlglot's BigQuery dialect reads each too


def test_the_harness_runs_the_declared_text_and_refuses_what_it_cannot_run(world: World) -> None:
    from tests.googlesql.script import Unsupported

    p = plan()
    assert world.start(p).script._text == str(p.procedure()).encode()  # the product's text, as declared
    with pytest.raises(Unsupported, match="CALL"):
        world.execute(f"CALL `{p.procedure_id}`(NULL)")
    assert DATASET in str(p.procedure()) and tables_for("fake") == TABLES
