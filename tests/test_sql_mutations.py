"""The SQL mutation tool (scripts/sql_mutations.py) still finds its targets: the corpus templates, the named regressions, its tests."""

from __future__ import annotations

from scripts import sql_mutations as tool


def test_every_mutant_changes_what_its_template_holds_and_the_tests_it_runs_exist() -> None:
    found = tool.mutants()
    assert len(found) > 150  # 207 when this was written: a tool that lost its folder finds none
    for mutant in found:
        text = (tool.ROOT / mutant.file).read_text()
        assert text[mutant.offset : mutant.offset + len(mutant.before)] == mutant.before, mutant
        assert mutant.after != mutant.before
    assert {m.what for m in found if m.what.startswith("regression")}, "the named regressions are found"
    assert all((tool.ROOT / test).is_file() for test in tool.TESTS)
