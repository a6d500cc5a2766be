"""Every Markdown page of the repository can be followed: relative links (and their anchors) resolve, and no
page cites our tracker's issue numbers, which a reader outside the tracker cannot follow (pages say why)."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
# Generated or installed trees, never written by us.
SKIPPED = (".venv/", "dbt_project/target/", "dbt_project/dbt_packages/", "node_modules/")

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(
    r"!?\[(?P<text>(?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?(?P<target>[^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(?P<target>\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"<a\s[^>]*(?:name|id)=\"(?P<id>[^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:|^//")
# "issue 16", "issues 15 and 17", "Issue 17's", "issue-13", "issue #12": our tracker, whatever the spelling.
ISSUE_WORD = re.compile(r"\bissues?[\s-]+#?\d+", re.IGNORECASE)
# A bare "#17" or "(#17)"; "astral-sh/uv#12202" (an upstream project's issue) and "&#123;" are not ours.
BARE_NUMBER = re.compile(r"(?<![\w/.&#-])#\d+\b")


def markdown_files() -> list[Path]:
    """The repository's Markdown pages: tracked and new ones git does not ignore, else every one on disk."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        listed = [path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*.md")]
    return sorted(
        ROOT / name for name in set(listed) if not name.startswith(SKIPPED) and (ROOT / name).is_file()
    )


def prose(text: str) -> str:
    """The text a reader sees as prose: fenced blocks and inline code blanked (kept line for line)."""
    text = FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    return INLINE_CODE.sub("code", text)


def slug(title: str) -> str:
    """GitHub's anchor for a heading: its text lower-cased, punctuation dropped, spaces made hyphens."""
    title = INLINE_LINK.sub(lambda match: match.group("text"), title)
    kept = (
        char
        for char in title.lower()
        if char in " -_" or unicodedata.category(char)[0] in "LNM"  # letters, numbers, marks
    )
    return "".join(kept).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors a page's headings (and HTML anchors) give, duplicates numbered as GitHub does."""
    found: set[str] = set(HTML_ANCHOR.findall(text))
    seen: dict[str, int] = {}
    for match in HEADING.finditer(FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)):
        base = slug(match.group("title"))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def link_targets(text: str) -> list[str]:
    visible = prose(text)
    return [m.group("target") for m in INLINE_LINK.finditer(visible)] + [
        m.group("target") for m in REFERENCE_DEFINITION.finditer(visible)
    ]


def broken_links(page: Path, text: str) -> list[str]:
    """The relative links of ``text`` (the page at ``page``) whose file or heading does not exist."""
    problems = []
    for target in link_targets(text):
        if not target or SCHEME.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        path_part = unquote(path_part)
        if not path_part:
            resolved, headings = page, anchors(text)
        else:
            resolved = ROOT / path_part.lstrip("/") if path_part.startswith("/") else page.parent / path_part
            resolved = resolved.resolve()
            is_page = resolved.suffix == ".md" and resolved.is_file()
            headings = anchors(resolved.read_text(encoding="utf-8")) if is_page else None
        where = f"{page.relative_to(ROOT)}: {target}"
        if path_part and not resolved.exists():
            problems.append(f"{where} (no such file)")
        elif anchor and headings is not None and unquote(anchor).lower() not in headings:
            problems.append(f"{where} (no heading #{anchor} in {resolved.relative_to(ROOT)})")
    return problems


def issue_citations(text: str) -> list[str]:
    """Citations of our tracker's issues: "issue 12" anywhere, a bare "#12" in prose (link targets are
    addresses, not prose: "](#2026-changes)" is an anchor)."""
    without_targets = INLINE_LINK.sub(lambda match: f"[{match.group('text')}]()", prose(text))
    return [m.group(0) for m in ISSUE_WORD.finditer(text)] + [
        m.group(0) for m in BARE_NUMBER.finditer(without_targets)
    ]


def test_every_relative_link_in_every_page_resolves() -> None:
    pages = markdown_files()
    assert ROOT / "README.md" in pages and len(pages) >= 10
    broken = [problem for page in pages for problem in broken_links(page, page.read_text(encoding="utf-8"))]
    assert broken == []


def test_no_page_cites_an_issue_number() -> None:
    cited = [
        f"{page.relative_to(ROOT)}: {hit!r}"
        for page in markdown_files()
        for hit in issue_citations(page.read_text(encoding="utf-8"))
    ]
    assert cited == []


def test_the_checks_find_what_they_look_for() -> None:
    """A broken link, a missing heading and issue citations are found; code, web addresses and upstream
    projects' issues are left alone."""
    page = ROOT / "docs" / "probe.md"  # never written: its text is given
    text = (
        "# A heading, with `code`\n\n[ok](index.md) [here](#a-heading-with-code) [web](https://example.org)\n"
        "[gone](no-such-page.md) [bad anchor](index.md#nowhere) [up](../README.md#tests)\n\n"
        "```\n[in code](missing.md) issue 3\n```\n"
        "As issue 12 said (#17); astral-sh/uv#12202 is upstream; `#5` is code.\n"
    )
    assert link_targets(text) == [
        "index.md",
        "#a-heading-with-code",
        "https://example.org",
        "no-such-page.md",
        "index.md#nowhere",
        "../README.md#tests",
    ]
    assert broken_links(page, text) == [
        "docs/probe.md: no-such-page.md (no such file)",
        "docs/probe.md: index.md#nowhere (no heading #nowhere in docs/index.md)",
    ]
    assert issue_citations(text) == ["issue 3", "issue 12", "#17"]
    assert slug("Crashes and stops (`benchmarks/chaos.py`)") == "crashes-and-stops-benchmarkschaospy"
    assert slug("Reclaim at 2,000 users") == "reclaim-at-2000-users"
    assert slug("Fail safe: no cleanup without proof") == "fail-safe-no-cleanup-without-proof"


def test_the_index_lists_every_page_and_the_readme_reaches_the_essentials() -> None:
    index = ROOT / "docs" / "index.md"
    targets = link_targets(index.read_text(encoding="utf-8"))
    listed = {(index.parent / target.partition("#")[0]).resolve() for target in targets}
    unlisted = [
        page.relative_to(ROOT).as_posix()
        for page in markdown_files()
        if page not in listed and page != index and page != ROOT / "README.md"
    ]
    assert unlisted == []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from_readme = {target.partition("#")[0] for target in link_targets(readme)}
    assert {"docs/architecture.md", "docs/data-model.md", "DEVELOPERS.md", "docs/index.md"} <= from_readme
