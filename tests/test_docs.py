"""The docs hold together: every relative link reaches a file and a heading that exist, and what the
README and docs/components.md show of the code is the code."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pulumi
import pytest

from bqml_text_embeddings.provider import COMPONENTS

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^ {0,3}(```|~~~)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading (github-slugger): the rendered text lower-cased, everything but
    letters, digits, `_`, `-` and spaces dropped, each space a hyphen."""
    text = CODE_SPAN.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link reads as its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor a page offers: its headings' slugs (a repeated one gets -1, -2, …) and HTML anchors."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose_lines(text):
        if heading := HEADING.match(line):
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found.update(HTML_ANCHOR.findall(line))
    return found


def links(text: str) -> list[tuple[int, str]]:
    """The link targets of a page's prose (inline links, images, reference definitions), not of its code."""
    targets = []
    for number, line in prose_lines(text):
        if reference := REFERENCE.match(line):
            targets.append((number, reference.group(1)))
            continue
        targets += [(number, target) for target in INLINE_LINK.findall(CODE_SPAN.sub("", line))]
    return targets


def dead_links(page: Path, root: Path) -> list[str]:
    """Every relative link of `page` that reaches no file, or no heading of the Markdown page it names."""
    problems = []
    text = page.read_text(encoding="utf-8")
    for number, target in links(text):
        if SCHEME.match(target):  # https:, mailto:: not ours to check offline
            continue
        path, _, anchor = target.partition("#")
        where = f"{page.relative_to(root)}:{number}: {target}"
        goal = (page.parent / path).resolve() if path else page
        if not goal.is_relative_to(root) or not goal.exists():
            problems.append(f"{where}: no such file")
        elif anchor and goal.suffix == ".md" and anchor not in anchors(goal.read_text(encoding="utf-8")):
            problems.append(f"{where}: no heading #{anchor} in {goal.relative_to(root)}")
    return problems


def test_every_relative_link_in_the_docs_reaches_a_file_and_a_heading() -> None:
    assert {p.name for p in PAGES} >= {"README.md", "CONTRIBUTING.md", "configuration.md", "corpora.md", "components.md"}
    problems = [problem for page in PAGES for problem in dead_links(page, ROOT)]
    assert problems == []


def test_the_link_check_finds_a_missing_file_a_missing_heading_and_ignores_code(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## Which runtime serves BERT?\n\n## `./dev preflight`: before the first `pulumi up`\n\n"
        "## Costs\n\n## Costs\n\nSee [costs](#costs-1) and [the top](../README.md#top-heading).\n",
        encoding="utf-8",
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Top heading\n\n"
        "[ok](docs/guide.md#which-runtime-serves-bert) [ok](docs/guide.md#dev-preflight-before-the-first-pulumi-up)\n"
        "[gone](docs/moved.md) [no heading](docs/guide.md#embed-your-own-table) [self](#nowhere)\n"
        "[web](https://example.com/x.md#y) `[in code](docs/absent.md)`\n"
        "[outside](../elsewhere.md)\n\n"
        "```\n[fenced](docs/absent.md)\n# not a heading\n```\n\n"
        "[ref]: docs/absent-too.md\n",
        encoding="utf-8",
    )
    found = dead_links(readme, tmp_path)
    assert found == [
        "README.md:4: docs/moved.md: no such file",
        "README.md:4: docs/guide.md#embed-your-own-table: no heading #embed-your-own-table in docs/guide.md",
        "README.md:4: #nowhere: no heading #nowhere in README.md",
        "README.md:6: ../elsewhere.md: no such file",
        "README.md:13: docs/absent-too.md: no such file",
    ]
    assert dead_links(tmp_path / "docs" / "guide.md", tmp_path) == []
    assert "not-a-heading" not in anchors(readme.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "heading, anchor",
    [
        ("Which embedding?", "which-embedding"),
        ("The stack's keys", "the-stacks-keys"),
        ("`./dev preflight`: check a project before the first `pulumi up`", "dev-preflight-check-a-project-before-the-first-pulumi-up"),
        ("Corpus refresh: rows sent against rows needed — `benchmarks/refresh_bench.py`", "corpus-refresh-rows-sent-against-rows-needed--benchmarksrefresh_benchpy"),
        ("Rows copied across locations (RowCopy: BERT's sample)", "rows-copied-across-locations-rowcopy-berts-sample"),
    ],
)
def test_headings_slug_as_github_does(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_the_readmes_python_program_is_the_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (program,) = re.findall(r"^```python\n(.*?)^```$", readme, flags=re.MULTILINE | re.DOTALL)
    assert program == (ROOT / "examples" / "python" / "__main__.py").read_text(encoding="utf-8")


def _listed(section: str, label: str) -> list[str]:
    (line,) = [line for line in section.splitlines() if line.startswith(f"- {label}: ")]
    return re.findall(r"`(\w+)`", line)


@pytest.mark.parametrize("component", COMPONENTS, ids=lambda c: c.__name__)
def test_the_components_page_lists_each_components_arguments_and_outputs(component: type) -> None:
    page = (ROOT / "docs" / "components.md").read_text(encoding="utf-8")
    section = page.split(f"\n### {component.__name__}\n", 1)[1].split("\n#", 1)[0]
    args = component.__init__.__annotations__["args"]
    outputs = [name for name, hint in component.__annotations__.items() if typing.get_origin(hint) is pulumi.Output]
    assert _listed(section, "needs") == [k for k in args.__annotations__ if k in args.__required_keys__]
    assert _listed(section, "may take") == [k for k in args.__annotations__ if k in args.__optional_keys__]
    assert _listed(section, "gives") == outputs
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `{component.__name__}` |" in readme
