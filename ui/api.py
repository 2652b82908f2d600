"""Endpoints for gradio_client with stable api_names: /login, /predict,
/predict_sentences, /explain, /history, /insights.

A gr.State is invisible to API clients, so each endpoint takes the token as an explicit
parameter; left empty, an `Authorization: Bearer` header is used instead (gradio_client's
`Client(url, headers=...)`). Login tokens and personal API tokens both work. Each call
verifies the token itself.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import gradio as gr

from analysis.scoring import SOURCE_API
from sentiment.attribution import word_weights
from services import Services
from ui import filters as filter_ui
from ui.common import client_info, current_account, shown_to_user


def build(services: Services) -> None:
    """Register the API-only endpoints (call inside the Blocks)."""

    def login(
        username: str,
        password: str,
        code: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> str:
        """Log in with username, password and, with two-factor on, a code; returns a token."""
        with shown_to_user():
            result = services.accounts.login(username, password, client_info(request), otp=code)
        return result.token.access_token

    def scored(texts: list[str], token: str, request: gr.Request, sentences: bool) -> list[dict]:
        account = current_account(services, token, request)
        with shown_to_user():
            found = services.scoring.score(
                account.id, texts, source=SOURCE_API, sentences=sentences
            )
        out = []
        for s in found:
            flat = s.prediction.to_dict()
            if not sentences:  # a long text's breakdown is only given when asked for
                flat.pop("sentences", None)
            out.append({"id": s.id, "text": s.text, **flat, "created_at": str(s.created_at)})
        return out

    def predict(texts: list[str], token: str = "", request: gr.Request = None) -> list[dict]:  # type: ignore[assignment]
        """Score texts (a list of strings) and save them to your history."""
        return scored(texts, token, request, sentences=False)

    def predict_sentences(
        texts: list[str],
        token: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> list[dict]:
        """As /predict, with each text's `sentences` (text, start, end, label, score)."""
        return scored(texts, token, request, sentences=True)

    def explain(text: str, token: str = "", request: gr.Request = None) -> dict[str, Any]:  # type: ignore[assignment]
        """Score one text and weigh each word (> 0 raises the label); not saved."""
        current_account(services, token, request)
        with shown_to_user():
            explanation = services.scoring.explain(text)
        prediction = explanation.prediction
        return {
            "label": prediction.label,
            "score": prediction.score,
            "words": [asdict(w) for w in word_weights(explanation.spans)],
        }

    def history(
        token: str = "",
        label: str = "all",
        source: str = "all",
        batch: str = "",
        since: str = "",
        until: str = "",
        search: str = "",
        cursor: str = "",
        limit: float = 50,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Your predictions, newest first; pass next_cursor back as cursor for the next page."""
        with services.db.shared_reads():  # one connection for the token and the page
            account = current_account(services, token, request)
            with shown_to_user():
                chosen = filter_ui.parse(label, source, batch, since, until, search)
                page = services.history.page(
                    account.id, chosen, cursor=cursor or None, limit=int(limit)
                )
        items = []
        for row in page.rows:
            item = asdict(row)
            item["created_at"] = row.created_at.isoformat()
            items.append(item)
        return {"items": items, "next_cursor": page.next_cursor}

    def insights(
        token: str = "",
        label: str = "all",
        source: str = "all",
        batch: str = "",
        since: str = "",
        until: str = "",
        search: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Summary counts: total, per label, per day and top words per label; with `batch`,
        that batch's evaluation on your labels (null when it named no label column)."""
        account = current_account(services, token, request)
        with shown_to_user():
            chosen = filter_ui.parse(label, source, batch, since, until, search)
            found = services.insights.for_user(account.id, chosen).summary()
            if chosen.batch_id:
                found["evaluation"] = services.batches.evaluation(account.id, chosen.batch_id)
            return found

    gr.api(login, api_name="login")
    gr.api(predict, api_name="predict")
    gr.api(predict_sentences, api_name="predict_sentences")
    gr.api(explain, api_name="explain")
    gr.api(history, api_name="history")
    gr.api(insights, api_name="insights")
