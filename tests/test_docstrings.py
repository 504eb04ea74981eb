"""Every module of the router, and every public class, function and method in it, says
what it is for (the reader of docs/architecture.md goes from there to the code)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import REPO


def _undocumented(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    missing = [] if ast.get_docstring(tree) else ["(module)"]

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if child.name.startswith("_"):
                continue
            if ast.get_docstring(child) is None:
                missing.append(prefix + child.name)
            if isinstance(child, ast.ClassDef):
                visit(child, f"{child.name}.")

    visit(tree, "")
    return missing


def test_every_public_definition_of_the_router_has_a_docstring():
    missing = {
        str(path.relative_to(REPO)): names
        for path in sorted((REPO / "router").rglob("*.py"))
        if (names := _undocumented(path))
    }
    assert missing == {}
