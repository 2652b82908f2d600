"""The shape of the house: the domain layers never import a web framework, and
docs/architecture.md stays true: it names every part, and its import rules hold."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers import ROOT

WEB_FRAMEWORKS = {"gradio", "gradio_client", "fastapi", "starlette", "uvicorn"}
DOMAIN = [
    "storage", "auth", "sentiment", "analysis", "settings.py", "model_settings.py",
    "batch_settings.py", "services.py", "errors.py",
]  # fmt: skip


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


DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def table(title: str) -> dict[str, list[str]]:
    """The rows of the table under `## title`: first cell -> the names in the second."""
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"docs/architecture.md has no '## {title}' section"
    rows = re.findall(r"^\| `([^`]+)` \| (.*) \|$", match.group(1), re.M)
    return {part: re.findall(r"`([^`]+)`", cells) for part, cells in rows}


def parts_of_the_house() -> set[str]:
    """Every top-level module, and every top-level folder that holds Python files."""
    modules = {path.name for path in ROOT.glob("*.py")}
    folders = {
        f"{path.name}/"
        for path in ROOT.iterdir()
        if path.is_dir() and not path.name.startswith(".") and any(path.glob("*.py"))
    }
    return modules | folders


def files_of(part: str) -> list[Path]:
    path = ROOT / part
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_the_document_names_every_part_of_the_house() -> None:
    named = set(table("The rooms"))
    unnamed = parts_of_the_house() - named
    assert not unnamed, f"add {sorted(unnamed)} to 'The rooms' in docs/architecture.md"
    gone = {part for part in named if not (ROOT / part).exists()}
    assert not gone, f"docs/architecture.md names {sorted(gone)}, which no longer exist"


def test_every_rule_is_about_a_part_the_document_names() -> None:
    assert set(table("What may import what")) <= set(table("The rooms"))


@pytest.mark.parametrize("part", sorted(table("What may import what")))
def test_imports_follow_the_documented_rules(part: str) -> None:
    never = set(table("What may import what")[part])
    broken = []
    for file in files_of(part):
        found = imported_roots(file.read_text(encoding="utf-8")) & never
        if found:
            broken.append(f"{file.relative_to(ROOT)} imports {sorted(found)}")
    assert not broken, "against docs/architecture.md: " + "; ".join(broken)
