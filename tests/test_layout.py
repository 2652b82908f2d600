"""The shape of the house: the domain layers never import a web framework."""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT

WEB_FRAMEWORKS = {"gradio", "gradio_client", "fastapi", "starlette", "uvicorn"}
DOMAIN = ["storage", "auth", "sentiment", "analysis", "settings.py", "services.py", "errors.py"]


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("part", DOMAIN)
def test_domain_code_does_not_import_web_frameworks(part: str) -> None:
    path = ROOT / part
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    for file in files:
        found = imported_roots(file.read_text(encoding="utf-8")) & WEB_FRAMEWORKS
        assert not found, f"{file.relative_to(ROOT)} imports {sorted(found)}"
