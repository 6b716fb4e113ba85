"""BigQuery's custom schedules, checked against the grammar the Data Transfer Service parses.

A scheduled query's schedule is App Engine cron's English-like syntax (docs: BigQuery "Scheduling
queries", custom schedules; App Engine "cron.yaml reference"). Its grammar is Google's Groc
(GoogleCloudPlatform/appengine-java-standard, utils/src/main/antlr3/com/google/borg/borgcron/Groc.g),
whose own examples are the ones the TransferConfig.schedule reference gives ("1st,3rd monday of
month 15:30", "every wed,fri of jan,jun 13:15", "first sunday of quarter 00:00"):

    interval   every N (hours | mins | minutes) [from TIME to TIME | synchronized]
    specific   (ORDINALS WEEKDAYS [of MONTHS] | MONTHDAYS of MONTHS) TIME
    ORDINALS   every | ordinal,...       1st 2nd 3rd 4th 5th, first second third fourth fifth
    WEEKDAYS   day | weekday,...         mon or monday ... sun or sunday
    MONTHDAYS  N,...                     1 to 31
    MONTHS     month | month name,... | quarter | (first|second|third),... month of quarter
    TIME       H:MM or HH:MM             00:00 to 23:59

Groc has no "last", no "weekday" and no abbreviations beyond the three letters (no "tues",
"sept"); a specific schedule needs its time. BigQuery runs a scheduled query at most every
5 minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MIN_INTERVAL_MINUTES = 5

_ALLOWED = re.compile(r"[A-Za-z0-9:, ]+")
_NUMBER = re.compile(r"[0-9]{1,5}")  # Groc's DIGIT | DIGITS
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_UNITS = {"hours": 60, "mins": 1, "minutes": 1}
_ORDINALS = {"1st", "first", "2nd", "second", "3rd", "third", "4th", "fourth", "5th", "fifth"}
_QUARTER_ORDINALS = {"1st", "first", "2nd", "second", "3rd", "third"}
_WEEKDAYS = {
    name
    for short, rest in (("mon", "day"), ("tue", "sday"), ("wed", "nesday"), ("thu", "rsday"), ("fri", "day"), ("sat", "urday"), ("sun", "day"))
    for name in (short, short + rest)
}
_MONTHS = {
    name
    for short, rest in (
        ("jan", "uary"), ("feb", "ruary"), ("mar", "ch"), ("apr", "il"), ("may", ""), ("jun", "e"),
        ("jul", "y"), ("aug", "ust"), ("sep", "tember"), ("oct", "ober"), ("nov", "ember"), ("dec", "ember"),
    )
    for name in (short, short + rest)
}
_FORMS = (
    "'every N hours', 'every N minutes', 'every DAYS HH:MM', '1st,3rd DAYS of MONTHS HH:MM' or 'N,M of MONTHS HH:MM'"
)


class ScheduleError(ValueError):
    """Why a text is not a schedule BigQuery accepts."""


class TooFrequent(ScheduleError):
    """A well-formed interval shorter than BigQuery allows."""


def clean(text: str) -> str:
    """The schedule as the stack sends it: lower case, words one space apart. Raises ScheduleError.

    Only letters, digits, ':', ',' and spaces belong in one: a newline, tab or any other
    character is refused, not folded away.
    """
    if not _ALLOWED.fullmatch(text):
        odd = next(c for c in text if not _ALLOWED.fullmatch(c))
        raise ScheduleError(f"{odd!r} does not belong in a schedule (letters, digits, ':', ',' and spaces only)")
    return " ".join(text.lower().split())


def check(text: str) -> None:
    """Raises ScheduleError unless `text` (as `clean` returns it) is a schedule BigQuery accepts."""
    tokens = _Tokens(text)
    if tokens.peek() == "every" and _NUMBER.fullmatch(tokens.peek(1) or ""):
        _interval(tokens)
    else:
        _specific(tokens)
    if tokens.peek() is not None:
        raise ScheduleError(f"{tokens.peek()!r} after a complete schedule")


class _Tokens:
    def __init__(self, text: str) -> None:
        self.items = re.findall(r",|[^ ,]+", text)
        self.at = 0

    def peek(self, ahead: int = 0) -> str | None:
        index = self.at + ahead
        return self.items[index] if index < len(self.items) else None

    def take(self, what: str) -> str:
        token = self.peek()
        if token is None:
            raise ScheduleError(f"it ends where {what} should follow")
        self.at += 1
        return token

    def expect(self, word: str, where: str) -> None:
        token = self.take(f"'{word}'")
        if token != word:
            raise ScheduleError(f"{token!r} where '{word}' belongs ({where})")

    def listed(self, item: Callable[[], None]) -> None:
        """One item, then more after commas."""
        item()
        while self.peek() == ",":
            self.at += 1
            item()


def _interval(tokens: _Tokens) -> None:
    tokens.take("'every'")
    count = int(tokens.take("a number"))
    unit = tokens.take("'hours' or 'minutes'")
    if unit not in _UNITS:
        raise ScheduleError(f"{unit!r} is not a unit of an interval: say hours, mins or minutes (e.g. 'every 6 hours')")
    if count * _UNITS[unit] < MIN_INTERVAL_MINUTES:
        raise TooFrequent(f"BigQuery runs a scheduled query at most every {MIN_INTERVAL_MINUTES} minutes")
    if tokens.peek() == "synchronized":
        tokens.take("'synchronized'")
    elif tokens.peek() == "from":
        tokens.take("'from'")
        _time(tokens.take("a time of day"))
        tokens.expect("to", "'from HH:MM to HH:MM'")
        _time(tokens.take("a time of day"))


def _specific(tokens: _Tokens) -> None:
    first = tokens.peek()
    if first is not None and _NUMBER.fullmatch(first):
        tokens.listed(lambda: _monthday(tokens.take("a day of the month")))
        tokens.expect("of", "'N,M of MONTHS HH:MM'")
        _months(tokens)
    else:
        if first == "every":
            tokens.take("'every'")
        elif first in _ORDINALS:
            tokens.listed(lambda: _one_of(tokens.take("an ordinal"), _ORDINALS, "an ordinal (1st to 5th, first to fifth)"))
        else:
            raise ScheduleError(f"{first!r} is not how a schedule starts: {_FORMS}")
        if tokens.peek() == "day":
            tokens.take("'day'")
        else:
            tokens.listed(lambda: _one_of(tokens.take("a day"), _WEEKDAYS, "a day (day, mon or monday, ... sun or sunday)"))
        if tokens.peek() == "of":
            tokens.take("'of'")
            _months(tokens)
    _time(tokens.take("the time of day it runs (HH:MM)"))


def _months(tokens: _Tokens) -> None:
    first = tokens.peek()
    if first in ("month", "quarter"):
        tokens.take(first)
    elif first in _QUARTER_ORDINALS:
        tokens.listed(lambda: _one_of(tokens.take("an ordinal"), _QUARTER_ORDINALS, "a month of a quarter (first to third)"))
        tokens.expect("month", "'first month of quarter'")
        tokens.expect("of", "'first month of quarter'")
        tokens.expect("quarter", "'first month of quarter'")
    else:
        tokens.listed(
            lambda: _one_of(tokens.take("a month"), _MONTHS, "a month: month, quarter, or names such as jan or january")
        )


def _one_of(token: str, allowed: set[str], what: str) -> None:
    if token not in allowed:
        raise ScheduleError(f"{token!r} is not {what}")


def _monthday(token: str) -> None:
    if not _NUMBER.fullmatch(token) or not 1 <= int(token) <= 31:
        raise ScheduleError(f"{token!r} is not a day of the month (1 to 31)")


def _time(token: str) -> None:
    match = _TIME.fullmatch(token)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{token!r} is not a time of day (HH:MM, 00:00 to 23:59)")
