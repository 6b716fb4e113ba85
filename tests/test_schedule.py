"""A corpus's schedule: BigQuery's custom-schedule grammar (Groc), checked before anything is declared."""

from __future__ import annotations

import pytest

from bqml_text_embeddings import schedule
from stack.config import ConfigError, parse
from tests.test_config_corpora import corpus

# Every form of the grammar (bqml_text_embeddings/schedule.py), with the spellings BigQuery's and App Engine's pages use.
VALID = [
    "every 24 hours",
    "every 5 minutes",
    "every 5 mins",
    "every 15 minutes synchronized",
    "every 2 hours from 08:00 to 18:00",
    "every 1 hours from 9:00 to 17:30",
    "every day 03:00",
    "every day 9:05",
    "every monday 09:00",
    "every mon,wed,fri 23:59",
    "every wed,fri of jan,jun 13:15",
    "every saturday of december 00:00",
    "1st,3rd monday of month 09:00",
    "first sunday of quarter 00:00",
    "2nd,4th tue of march,september 10:30",
    "fifth friday of month 18:00",
    "first day of month 00:00",
    "1st monday of second month of quarter 06:00",
    "first,third thursday of 1st,2nd month of quarter 12:00",
    "28,29,30,31 of month 17:00",
    "1 of jan,apr,jul,oct 08:58",
]

BAD = [
    ("every mon 99:99", "'99:99' is not a time of day (HH:MM, 00:00 to 23:59)"),
    ("every day 24:00", "'24:00' is not a time of day"),
    ("every day 12:60", "'12:60' is not a time of day"),
    ("every 2 hours from 08:00 to 25:00", "'25:00' is not a time of day"),
    ("first day of banana", "'banana' is not a month: month, quarter, or names such as jan or january"),
    ("every wed of jan,sept 10:00", "'sept' is not a month"),
    ("every tues 10:00", "'tues' is not a day (day, mon or monday, ... sun or sunday)"),
    ("every weekday 09:00", "'weekday' is not a day"),
    ("last day of month 09:00", "'last' is not how a schedule starts"),
    ("6th monday of month 09:00", "'6th' is not how a schedule starts"),
    ("1st,6th monday of month 09:00", "'6th' is not an ordinal (1st to 5th, first to fifth)"),
    ("fourth month of quarter", "'month' is not a day"),
    ("first monday of fourth month of quarter 09:00", "'fourth' is not a month"),
    ("1st monday of 2nd month of year 09:00", "'year' where 'quarter' belongs"),
    ("0 of month 10:00", "'0' is not a day of the month (1 to 31)"),
    ("32 of month 10:00", "'32' is not a day of the month (1 to 31)"),
    ("15 monday 10:00", "'monday' where 'of' belongs"),
    ("every monday", "it ends where the time of day it runs (HH:MM) should follow"),
    ("every 24 hour", "'hour' is not a unit of an interval: say hours, mins or minutes"),
    ("every 6 hours from 08:00", "it ends where 'to' should follow"),
    ("every 2 hours synchronized now", "'now' after a complete schedule"),
    ("every day 03:00 synchronized", "'synchronized' after a complete schedule"),
    ("daily", "'daily' is not how a schedule starts"),
    ("every 24 hours'; DROP", "\"'\" does not belong in a schedule"),
    ("every 24 hours\n", "'\\n' does not belong in a schedule (letters, digits, ':', ',' and spaces only)"),
    ("every 24\rhours", "'\\r' does not belong in a schedule"),
    ("every\t24 hours", "'\\t' does not belong in a schedule"),
    ("every 24 hours\u00a0", "'\\xa0' does not belong in a schedule"),
]


@pytest.mark.parametrize("text", VALID)
def test_every_form_of_bigquerys_grammar_is_accepted_as_written(text: str) -> None:
    assert parse(corpus(schedule=text)).corpora[0].schedule == text


def test_case_and_runs_of_spaces_are_folded_and_none_means_by_hand() -> None:
    assert parse(corpus(schedule="  Every Mon,Thu   09:00 ")).corpora[0].schedule == "every mon,thu 09:00"
    assert parse(corpus(schedule=" None ")).corpora[0].schedule is None


@pytest.mark.parametrize("text, why", BAD, ids=[b[0].encode("unicode_escape").decode() for b in BAD])
def test_each_bad_schedule_gets_one_line_naming_the_key_and_why(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse(corpus(schedule=text))
    lines = str(failure.value).splitlines()
    assert len(lines) == 2, lines
    assert lines[1].startswith(f"  bqml-text-embeddings:corpora.tickets.schedule: {text!r} is not BigQuery's schedule syntax: {why}")
    assert lines[1].endswith('give BigQuery\'s schedule syntax such as "every 24 hours", or "none" to refresh only by hand')


@pytest.mark.parametrize("text", ["every 4 minutes", "every 1 mins", "every 0 hours", "every 4 minutes from 08:00 to 09:00"])
def test_an_interval_under_five_minutes_is_refused_for_what_it_is(text: str) -> None:
    with pytest.raises(ConfigError) as failure:
        parse(corpus(schedule=text))
    assert str(failure.value).splitlines()[1] == (
        f"  bqml-text-embeddings:corpora.tickets.schedule: {text!r}: BigQuery runs a scheduled query at most every 5 minutes"
    )


def test_the_parser_alone_names_what_is_wrong() -> None:
    schedule.check("every 5 minutes")
    with pytest.raises(schedule.TooFrequent):
        schedule.check("every 4 minutes")
    with pytest.raises(schedule.ScheduleError, match=r"^'99:99' is not a time of day"):
        schedule.check("every mon 99:99")
    assert schedule.clean(" EVERY  24   Hours ") == "every 24 hours"
