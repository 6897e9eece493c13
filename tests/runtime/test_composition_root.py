"""What app.py and settings.py import, checked the way pyproject's layers check the packages.

import-linter takes only packages as roots, so it sees these two top-level modules only from outside (who
imports them); their own imports are read here from the source, including imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_the_composition_root_imports_nothing_that_sits_above_it() -> None:
    above = ("runtime.cli", "runtime.__main__", "sandbox", "slack_double")
    imports = imports_of(ROOT / "app.py")
    assert {"runtime.server", "runtime.scheduler", "settings"} <= imports  # it is reading the right file
    assert sorted(m for m in imports if within(m, above)) == []


def test_settings_depend_only_on_the_domain_and_storage() -> None:
    product = ("bot", "handlers", "storage", "runtime", "app", "sandbox", "slack_double")
    imports = imports_of(ROOT / "settings.py")
    assert sorted(m for m in imports if within(m, product) and not within(m, ("bot", "storage"))) == []
    assert any(within(m, ("bot",)) for m in imports)
