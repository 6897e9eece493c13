"""The README stays a newcomer's page and every link in the docs leads somewhere inside the repository."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_LIMIT = 15_000
# CI and a hook run these exactly as written, so they are compared byte for byte.
COMMANDS = (
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python app.py --sandbox --seed",
    'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/python -m pytest',
)
# Directories that are not the project's own pages (virtualenvs, caches, build output).
NOT_DOCS = {"node_modules", "test-artifacts", "build"}

FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files(root: Path = ROOT) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in NOT_DOCS or p.endswith(".egg-info") for p in parts):
            continue
        files.append(path)
    return files


def prose(text: str) -> str:
    """The text with code blocks and code spans blanked, so a path shown as code is not taken for a link."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub("", text)


def link_targets(text: str) -> list[str]:
    body = prose(text)
    inline = [m.group(1) for m in INLINE_LINK.finditer(body)]
    return inline + [m.group(1) for m in REFERENCE_LINK.finditer(body)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors on its text
    text = text.replace("`", "").lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(prose(path.read_text(encoding="utf-8"))):
        base = slug(match.group(1))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Every relative link in `path` that leads to no file (or heading) inside `root`, with the reason."""
    problems = []
    for target in link_targets(path.read_text(encoding="utf-8")):
        if SCHEME.match(target):
            continue  # https:, mailto: and the like are not files of the repository
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and unquote(anchor).lower() not in anchors(resolved):
            problems.append(f"{target}: no heading with that anchor")
    return problems


def test_the_readme_is_at_most_15000_characters() -> None:
    length = len(README.read_text(encoding="utf-8"))
    assert length <= README_LIMIT, f"README.md is {length} characters; move detail into docs/"


def test_the_readme_starts_with_the_two_commands() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# "), "the README opens with its title"
    rest = [line for line in lines[1:] if line.strip()]
    assert rest[0] == "```bash", "the first thing after the title is the block of commands"
    block = rest[1 : rest.index("```")]
    commands = [line for line in block if not line.startswith("#")]
    assert commands == list(COMMANDS)


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(path: Path) -> None:
    assert broken_links(path) == []


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_points_outside_the_project_at_shared(path: Path) -> None:
    # ../shared sits beside the project's checkout, not in it: a person who clones Mend does not have it.
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [n for n, line in enumerate(lines, 1) if "../shared" in line] == []


def test_the_docs_pages_are_checked() -> None:
    names = {str(p.relative_to(ROOT)) for p in markdown_files()}
    assert {"README.md", "docs/doctrine.md", "docs/configuration.md", "docs/reliability.md"} <= names


def test_the_link_check_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "real.md").write_text("# A page\n## Its part\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](docs/real.md) [ok too](docs/real.md#its-part) [site](https://example.com) [here](#top)\n"
        "# Top\n"
        "[gone](docs/missing.md) [bad anchor](docs/real.md#nothing) [out](../shared/design/DOCTRINE.md)\n"
        "`[not a link](nowhere.md)`\n"
        "```\n[also not a link](nowhere.md)\n```\n"
        "1. a list item\n   ```\n   [nor this](nowhere.md)\n   ```\n"
        "[ref]: docs/gone-too.md\n",
        encoding="utf-8",
    )
    assert broken_links(page, tmp_path) == [
        "docs/missing.md: no such file",
        "docs/real.md#nothing: no heading with that anchor",
        "../shared/design/DOCTRINE.md: outside the repository",
        "docs/gone-too.md: no such file",
    ]
