"""The code carries no unused imports, undefined names or other mistakes pyflakes can see."""
from __future__ import annotations

from pathlib import Path

from pyflakes.api import checkRecursive
from pyflakes.reporter import Reporter

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["api", "resolvers", "domain", "infra", "bench", "scripts", "tests", "examples"]


class Collect:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        if text.strip():
            self.lines.append(text.strip())


def test_pyflakes_finds_nothing() -> None:
    found = Collect()
    warnings = checkRecursive([str(ROOT / p) for p in PACKAGES], Reporter(found, found))
    assert warnings == 0 and not found.lines, "\n".join(found.lines)


def test_the_check_sees_a_mistake(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import os\nprint(undefined_name)\n")
    found = Collect()
    assert checkRecursive([str(tmp_path)], Reporter(found, found)) == 2
    assert any("'os' imported but unused" in line for line in found.lines)
