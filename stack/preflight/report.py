"""What a preflight prints: one line per finding, `ok`, `FAIL` (what is wrong and the fix) or `note`.

A note is neither: something the preflight cannot settle from here (a repository the stack has
yet to make, a quota it cannot read), with how to settle it by hand. Only a FAIL fails the run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OK, FAIL, NOTE = "ok", "FAIL", "note"


@dataclass(frozen=True)
class Line:
    status: str  # OK, FAIL or NOTE
    check: str  # which check: apis, permissions, tables, image, quotas
    text: str

    def render(self) -> str:
        return f"{self.status:<4} {self.check}: {self.text}"


def ok(check: str, text: str) -> Line:
    return Line(OK, check, text)


def fail(check: str, text: str) -> Line:
    return Line(FAIL, check, text)


def note(check: str, text: str) -> Line:
    return Line(NOTE, check, text)


def failed(lines: Iterable[Line]) -> list[Line]:
    return [line for line in lines if line.status == FAIL]


def summary(lines: list[Line]) -> str:
    problems = len(failed(lines))
    notes = sum(1 for line in lines if line.status == NOTE)
    verdict = "ready for `pulumi up`" if not problems else f"{problems} problem(s) to fix before `pulumi up`"
    return f"preflight: {verdict} ({len(lines)} checks, {notes} note(s))"
