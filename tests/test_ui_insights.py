"""The Insights tab's handler: a one-day history still draws its trend (bars, not a line)."""

from __future__ import annotations

from datetime import timedelta

from services import Services
from tests.analysis_factories import add_rows, make_user
from tests.test_cross_user import NO_FILTERS
from tests.ui_calls import crafted_request, ui_handler
from ui.app import build_ui


def test_one_day_is_drawn_as_bars(services: Services) -> None:
    user_id, token = make_user(services)
    add_rows(services, user_id, ["lovely", "nice", "great"], step=timedelta(minutes=5))
    shown = ui_handler(build_ui(services), "show")(token, crafted_request(token), *NO_FILTERS)
    plots = {key.elem_id: update for key, update in shown.items()}
    assert plots["insights-trend"].visible is False
    bars = plots["insights-trend-bars"]
    assert bars.visible is True
    assert bars.value["data"] == [["2030-03-01", "positive", 3]]


def test_several_days_are_drawn_as_a_line(services: Services) -> None:
    user_id, token = make_user(services)
    add_rows(services, user_id, ["lovely", "nice", "great"], step=timedelta(days=1))
    shown = ui_handler(build_ui(services), "show")(token, crafted_request(token), *NO_FILTERS)
    plots = {key.elem_id: update for key, update in shown.items()}
    assert plots["insights-trend"].visible is True
    assert len(plots["insights-trend"].value["data"]) == 3
    assert plots["insights-trend-bars"].visible is False
