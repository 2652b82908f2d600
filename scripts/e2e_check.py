"""End-to-end check of a running Sentiscope (the container in CI) at SMOKE_URL.

Over REST: register, log in, predict, read the history. Over gradio_client: register,
log in, predict and read the history through the UI's API (/register, /login, /predict,
/history), then confirm through REST that the UI's prediction landed in the same user's
history. Prints one line per step; exits 1 at the first failure, saying what differed.

    SMOKE_URL=http://127.0.0.1:7860 python scripts/e2e_check.py
"""

from __future__ import annotations

import os
import sys
import uuid
from typing import Any

import httpx
from gradio_client import Client

PASSWORD = "e2e password 123"  # noqa: S105 - a throwaway test account
EXPECTED = {
    "I love this app, it works perfectly and the support team was wonderful.": "positive",
    "This is terrible. It broke after one day and nobody answered my emails.": "negative",
}
UI_TEXT = "Absolutely fantastic experience, I am delighted!"
GRADIO_ENDPOINTS = ("/register", "/login", "/predict", "/history")


class CheckFailed(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise CheckFailed(what)


def step(message: str) -> None:
    print(f"e2e: ok  {message}", flush=True)


def rest(base: str) -> None:
    with httpx.Client(base_url=base, timeout=60) as http:
        health = http.get("/healthz")
        expect(health.status_code == 200, f"/healthz answered {health.status_code}")
        step(f"/healthz {health.json()}")
        username = f"e2e_{uuid.uuid4().hex[:8]}"
        reply = http.post("/api/auth/register", json={"username": username, "password": PASSWORD})
        expect(reply.status_code in (200, 201), f"register: {reply.status_code} {reply.text}")
        token = login(http, username)
        step(f"REST register and log in as {username}")
        auth = {"Authorization": f"Bearer {token}"}
        reply = http.post("/api/predict", json={"texts": list(EXPECTED)}, headers=auth)
        expect(reply.status_code == 200, f"predict: {reply.status_code} {reply.text}")
        predictions = reply.json()["predictions"]
        got = {p["text"]: p["label"] for p in predictions}
        expect(got == EXPECTED, f"predict labels: expected {EXPECTED}, got {got}")
        step(f"REST predict: {[p['label'] for p in predictions]}")
        reply = http.get("/api/history", headers=auth)
        expect(reply.status_code == 200, f"history: {reply.status_code} {reply.text}")
        items = reply.json()["items"]
        expect(
            {item["id"] for item in items} == {p["id"] for p in predictions},
            f"history ids {[i['id'] for i in items]} differ from the predictions'",
        )
        expect(all(i["source"] == "api" for i in items), "history rows are not source=api")
        step(f"REST history: {len(items)} rows, the same ids")
        reply = http.get("/api/history")
        expect(reply.status_code == 401, f"history without a token: {reply.status_code}")
        step("REST history without a token: 401")


def login(http: httpx.Client, username: str) -> str:
    reply = http.post("/api/auth/token", data={"username": username, "password": PASSWORD})
    expect(reply.status_code == 200, f"log in: {reply.status_code} {reply.text}")
    return str(reply.json()["access_token"])


def gradio(base: str) -> None:
    client = Client(base, verbose=False)
    try:
        info: dict[str, Any] = client.view_api(print_info=False, return_format="dict")
        endpoints = set(info["named_endpoints"])
        missing = [name for name in GRADIO_ENDPOINTS if name not in endpoints]
        expect(not missing, f"the Gradio app has no {missing} endpoints (has {sorted(endpoints)})")
        username = f"e2e_ui_{uuid.uuid4().hex[:8]}"
        client.predict(username, PASSWORD, api_name="/register")
        token = client.predict(username, PASSWORD, api_name="/login")
        expect(isinstance(token, str) and len(token) > 20, f"gradio login returned {token!r}")
        step(f"gradio_client register and log in as {username}")
        result = client.predict([UI_TEXT], token, api_name="/predict")
        labels = [row.get("label") for row in result] if isinstance(result, list) else result
        expect(labels == ["positive"], f"gradio predict returned {result!r}")
        step("gradio_client predict: positive")
        history = client.predict(token=token, api_name="/history")
        texts = [item.get("text") for item in history.get("items", [])]
        expect(texts == [UI_TEXT], f"gradio history: expected [{UI_TEXT!r}], got {texts}")
        step("gradio_client history shows the prediction")
    finally:
        client.close()
    with httpx.Client(base_url=base, timeout=60) as http:
        token = login(http, username)
        reply = http.get("/api/history", headers={"Authorization": f"Bearer {token}"})
        texts = [item["text"] for item in reply.json()["items"]]
        expect(UI_TEXT in texts, f"REST history of the UI user lacks the UI prediction: {texts}")
        step("the UI's prediction is in the same user's REST history")


def main() -> int:
    base = os.environ.get("SMOKE_URL", "http://127.0.0.1:7860").rstrip("/")
    try:
        rest(base)
        gradio(base)
    except Exception as exc:  # any failure, from httpx, gradio_client or a check, is one line
        print(f"e2e: FAIL {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"e2e: PASS against {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
