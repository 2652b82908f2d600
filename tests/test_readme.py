"""The README stays true: every setting is documented, the commands are there."""

from __future__ import annotations

import re

from settings import Settings
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_settings_table_lists_every_field_and_nothing_else() -> None:
    documented = re.findall(r"^\| `([A-Z_]+)` \|", section("Settings"), re.M)
    assert len(documented) == len(set(documented)), "a setting is listed twice"
    assert set(documented) == set(Settings.model_fields)


def test_quick_start_has_the_two_commands() -> None:
    quick_start = section("Quick start")
    assert "pip install -r requirements.txt && python app.py" in quick_start
    assert "python -m pytest" in quick_start


def test_sentiment_model_section_exists() -> None:
    section("Sentiment model")
    section("Architecture")
