"""docs/privacy.md names, for each promise of the privacy notice, the tests that keep it: every
one of them must exist (a renamed or deleted test would leave a promise unproved)."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def test_every_test_docs_privacy_names_exists() -> None:
    doc = (REPO / "docs" / "privacy.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", doc)
    assert len(named) >= 30
    missing = []
    for path, test in named:
        file = REPO / path
        if not file.exists() or (test and test not in _tests_in(file)):
            missing.append(f"{path}::{test}" if test else path)
    assert missing == []
