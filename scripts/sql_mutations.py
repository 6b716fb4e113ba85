"""Mutation testing of the corpus SQL: does a test fail when a predicate, a bound or a join changes?

Each mutant is one small change to one file of bqml_text_embeddings/sql/corpus/ (outside comments and string
literals): a comparison flipped or loosened, AND/OR swapped, a NOT or a conjunct dropped,
IS NULL inverted, ASC/DESC swapped, a unit or a literal changed, a function slipped into
a fingerprint, plus the named regressions in REGRESSIONS (today's fixes undone one by
one). Each runs the corpus tests in a copy of the project (the working tree is never
touched), stopping at the first failure: a failure catches the mutant, a pass lets it
survive. Prints every survivor, the score, and writes them as JSON.

    .venv/bin/python scripts/sql_mutations.py                 # all mutants, 2 workers
    .venv/bin/python scripts/sql_mutations.py --list          # the mutants only
    .venv/bin/python scripts/sql_mutations.py --only batch.sql --jobs 1
    .venv/bin/python scripts/sql_mutations.py --again benchmarks/.work/sql_mutations.json   # last run's survivors
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQL = Path("bqml_text_embeddings/sql/corpus")
# First the refresh executed on the engine (fast to fail), then the program and the wire.
TESTS = ("tests/test_corpus_refresh.py", "tests/test_program_corpora.py", "tests/test_wire_corpus.py")
LINKED = (".venv", ".zetasql", ".zetasql-cache")  # shared read-only with the copies
TIMEOUT = 1200  # seconds a test file may take on a mutant: a mutant that never ends is caught (it cannot pass)
SKIPPED = {".git", ".build", ".pytest_cache", "__pycache__", *LINKED}
# Schemas and DDL hold no decision (a column's NOT NULL, an OPTIONS description): not mutated.
DDL = {
    "embeddings_table.sql", "failures_table.sql", "runs_table.sql", "lease_table.sql", "index_create.sql", "index_replace.sql",
    "drop_vector_index.sql", "search_function.sql", "status_view.sql", "repeated_keys_view.sql",
}  # fmt: skip

_OPERAND = r"(?:'[^'\n]*'|[\w.`${}@]+)"
# (pattern, replacement, what it does): applied one match at a time.
OPERATORS: list[tuple[str, str, str]] = [
    (r"(?<![<>!=])=(?![=>])", "!=", "= to !="),
    (r"!=", "=", "!= to ="),
    (r"<(?![=>])", "<=", "< to <="),
    (r"<=", "<", "<= to <"),
    (r"(?<![-=])>(?!=)", ">=", "> to >="),
    (r">=", ">", ">= to >"),
    (r"\bAND\b", "OR", "AND to OR"),
    (r"\bOR\b", "AND", "OR to AND"),
    (r"\bNOT ", "", "NOT dropped"),
    (r"\bIS NULL\b", "IS NOT NULL", "IS NULL inverted"),
    (r"\bIS NOT NULL\b", "IS NULL", "IS NOT NULL inverted"),
    (r"\bDESC\b", "ASC", "DESC to ASC"),
    (r"\bFALSE\)", "TRUE)", "a FALSE default to TRUE"),
    (r"\bMINUTE\b", "SECOND", "minutes to seconds"),
    (r"\+ 1\b", "+ 0", "+ 1 to + 0"),
    (r"'retry'", "'failed'", "'retry' to 'failed'"),
    (r"'failed'", "'retry'", "'failed' to 'retry'"),
    (r"\bLEFT JOIN\b", "JOIN", "LEFT JOIN to JOIN"),
    (r"\bMAX\(", "MIN(", "MAX to MIN"),
    (r"FARM_FINGERPRINT\(IFNULL\(", "FARM_FINGERPRINT(LOWER(IFNULL(", "the fingerprint of LOWER(text)"),
    (rf"\s+AND\s+{_OPERAND} (?:=|!=|<=|>=|<|>) {_OPERAND}", "", "a conjunct dropped"),
    (rf"(?<=WHERE ){_OPERAND} (?:=|!=|<=|>=|<|>) {_OPERAND} AND ", "", "a first conjunct dropped"),
    (r"(?<=\bWHERE )[^\n]+", "TRUE", "a WHERE dropped"),
]
# A fix of issue #18 undone: each must fail a test, or the fix is not tested.
REGRESSIONS: list[tuple[str, str, str, str]] = [
    ("procedure.sql", "IF departing * 100 > delete_limit * corpus_rows THEN", "IF FALSE THEN", "1: no guard against an empty source"),
    ("source.sql", "ORDER BY TRIM(IFNULL(content, '')) != '' DESC, newest DESC, content_fingerprint, content", "ORDER BY content_fingerprint, content",
     "2: repeated keys won by the smallest fingerprint"),
    ("check_vectors.sql", "WHEN ARRAY_LENGTH(embedding) != model_dims", "WHEN FALSE", "3: vectors of any length stored"),
    ("doc_id_one.sql", "FORMAT('%t', `${column}`)", "CAST(`${column}` AS STRING)", "4: a key cast to STRING"),
    ("insert_failed.sql", "quota AND previous_rejections < ${free_rejections}", "quota", "5: quota rejections free for ever"),
    ("retire_exhausted.sql", "WHERE status = 'retry' AND attempts >= ${max_attempts}", "WHERE FALSE", "6: a lowered maxAttempts ignored"),
    ("batch.sql", "LIMIT ${batch_size}", "LIMIT ${batch_size} + 1", "7: batchSize not a cap"),
    ("procedure.sql", "        BEGIN TRANSACTION;\n", "        BEGIN TRANSACTION;\n        ${lease_renew};\n", "8: the shared lease mutated in each transaction"),
    ("index_when_qualified.sql", "IF (SELECT size_bytes FROM `${dataset}.__TABLES__` WHERE table_id = '${table_id}') >= ${min_bytes} THEN",
     "IF (SELECT row_count FROM `${dataset}.__TABLES__` WHERE table_id = '${table_id}') >= 5000 THEN", "9: the index gated on 5,000 rows"),
    ("index_step.sql", "      SET outcome = CONCAT(outcome, '; the vector index was not made: ', @@error.message);",
     "      RAISE USING MESSAGE = @@error.message;", "9: an index problem fails a committed run"),
    ("procedure.sql", "      SET sent = sent + (SELECT COUNT(*) FROM (${batch_text}));\n", "",
     "10: rows of a rolled-back batch not counted as sent (the count moved after the commit)"),
]


@dataclass
class Mutant:
    file: str
    offset: int
    before: str
    after: str
    what: str
    line: int
    outcome: str = ""  # caught by TEST / survived
    seconds: float = 0.0


def _hidden(text: str) -> tuple[str, list[bool], list[bool]]:
    """The text with comments and string contents blanked (so operators match only SQL), and per
    character whether it is in a comment, and whether it is inside a string literal."""
    masked, comment, literal = list(text), [False] * len(text), [False] * len(text)
    for match in re.finditer(r"--[^\n]*|r?'(?:[^'\\\n]|\\.)*'", text):
        is_comment = match.group(0).startswith("--")
        inner = range(match.start(), match.end()) if is_comment else range(match.start() + match.group(0).index("'") + 1, match.end() - 1)
        for i in inner:
            masked[i] = " "
            (comment if is_comment else literal)[i] = True
    return "".join(masked), comment, literal


def _balanced(predicate: str) -> str:
    """A predicate cut before the first parenthesis it does not open (the end of its subquery)."""
    depth = 0
    for i, char in enumerate(predicate):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return predicate[:i].rstrip()
    return predicate.rstrip(" ,;")


def mutants(only: str | None = None) -> list[Mutant]:
    found: list[Mutant] = []
    for path in sorted((ROOT / SQL).glob("*.sql")):
        if (only and path.name != only) or path.name in DDL:
            continue
        text = path.read_text()
        masked, comment, literal = _hidden(text)
        for pattern, replacement, what in OPERATORS:
            for match in re.finditer(pattern, masked):
                before = text[match.start() : match.end()]
                line_start = text.rfind("\n", 0, match.start()) + 1
                if any(comment[match.start() : match.end()]) or literal[match.start()] or literal[match.end() - 1]:
                    continue  # in a comment or inside a string
                if re.search(r"\bSET \w+ $", text[line_start : match.start()]):
                    continue  # an assignment's `=`
                if what == "a WHERE dropped":
                    before = _balanced(before)
                    if before in ("", "TRUE"):
                        continue
                line = text.count("\n", 0, match.start()) + 1
                found.append(Mutant(f"{SQL}/{path.name}", match.start(), before, replacement, what, line))
    for name, before, after, what in REGRESSIONS:
        if only and name != only:
            continue
        text = (ROOT / SQL / name).read_text()
        offset = text.find(before)
        if offset < 0 or text.count(before) != 1:
            raise SystemExit(f"regression {what!r}: {before!r} is not once in {name}")
        found.append(Mutant(f"{SQL}/{name}", offset, before, after, f"regression #{what}", text.count("\n", 0, offset) + 1))
    return found


def _copy(into: Path) -> Path:
    shutil.copytree(ROOT, into, ignore=lambda _d, names: [n for n in names if n in SKIPPED])
    for name in LINKED:
        if (ROOT / name).exists():
            os.symlink(ROOT / name, into / name)
    return into


def _run(copy: Path, mutant: Mutant) -> Mutant:
    path = copy / mutant.file
    original = path.read_text()
    path.write_text(original[: mutant.offset] + mutant.after + original[mutant.offset + len(mutant.before) :])
    started = time.monotonic()
    try:
        for test in TESTS:
            try:
                result = subprocess.run(
                    [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", test],
                    cwd=copy, capture_output=True, text=True, check=False, timeout=TIMEOUT,
                )
            except subprocess.TimeoutExpired:
                mutant.outcome = f"caught by a timeout in {test}"
                break
            if result.returncode != 0:
                mutant.outcome = f"caught by {test}"
                break
        else:
            mutant.outcome = "survived"
    finally:
        path.write_text(original)
    mutant.seconds = round(time.monotonic() - started, 1)
    return mutant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="one file of bqml_text_embeddings/sql/corpus/")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / ".work" / "sql_mutations.json")
    parser.add_argument("--again", type=Path, help="run only the mutants a previous run's JSON lists as survived")
    args = parser.parse_args()
    found = mutants(args.only)
    if args.again:
        survived = {(m["file"], m["offset"], m["after"]) for m in json.loads(args.again.read_text()) if m["outcome"] == "survived"}
        found = [m for m in found if (m.file, m.offset, m.after) in survived]
    if args.list:
        for m in found:
            print(f"{m.file}:{m.line}: {m.what}: {m.before!r} -> {m.after!r}")
        print(f"{len(found)} mutants")
        return 0
    with tempfile.TemporaryDirectory(prefix="sql-mutations-") as tmp:
        copies = [_copy(Path(tmp) / f"copy{i}") for i in range(args.jobs)]
        free = list(copies)
        done: list[Mutant] = []
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            pending = {}
            queue = list(found)
            while queue or pending:
                while queue and free:
                    copy = free.pop()
                    pending[pool.submit(_run, copy, queue.pop(0))] = copy
                finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in finished:
                    free.append(pending.pop(future))
                    mutant = future.result()
                    done.append(mutant)
                    print(f"[{len(done)}/{len(found)}] {mutant.outcome:<45} {mutant.seconds:>6}s  {mutant.file}:{mutant.line} {mutant.what}", flush=True)
    survivors = [m for m in done if m.outcome == "survived"]
    caught = len(done) - len(survivors)
    print(f"\n{caught} of {len(done)} mutants caught ({100 * caught / len(done):.1f}%); survivors:")
    for m in sorted(survivors, key=lambda m: (m.file, m.line)):
        print(f"  {m.file}:{m.line}: {m.what}: {m.before!r} -> {m.after!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([asdict(m) for m in sorted(done, key=lambda m: (m.file, m.offset))], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
