"""The REST edge: FastAPI routes over the same services the Gradio UI uses."""

from __future__ import annotations

from fastapi import FastAPI

from api import (
    admin,
    auth,
    batch,
    batch_xlsx,
    explain,
    health,
    history,
    insights,
    predict,
    tokens,
)
from api.errors import install_error_handlers, not_found_router


def install_api(app: FastAPI) -> None:
    """Add every REST route and the error handlers. Call before mounting Gradio at `/`."""
    install_error_handlers(app)
    routers = (
        health.router,
        auth.router,
        predict.router,
        explain.router,
        history.router,
        insights.router,
        tokens.router,
        batch.router,
        batch_xlsx.router,
        admin.router,
    )  # later issues add theirs here
    for router in routers:
        app.include_router(router)
    # Last, so that it only catches what no other /api route matched.
    app.include_router(not_found_router)
