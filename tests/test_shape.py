"""The product's shape, held: no function in gourmetops/, tasks/ or deploys/ longer than 60
lines (a longer one is two steps that want names of their own)."""

from __future__ import annotations

import ast

from gourmetops import PROJECT_ROOT

LIMIT = 60


def test_no_function_is_over_sixty_lines():
    long = []
    for part in ("gourmetops", "tasks", "deploys"):
        for path in sorted((PROJECT_ROOT / part).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = (node.end_lineno or node.lineno) - node.lineno + 1
                    if lines > LIMIT:
                        long.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}")
    assert long == []
