"""Sentiscope: wiring only. Build settings, services, the REST API and the Gradio UI.

`python app.py` serves on HOST:PORT; `python app.py --help` lists the operator's commands
(ops/cli.py). Importing this module starts nothing.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from api import install_api
from api.admission import ScoringAdmission
from api.headers import SecurityHeadersMiddleware
from errors import AppError
from services import Services, build_services
from settings import Settings, load_settings

logger = logging.getLogger("sentiscope")
BIND_ALL = ("", "0.0.0.0", "::")  # noqa: S104 - recognised, not bound to

DESCRIPTION = (
    "Multi-user sentiment analysis. Get a token from `POST /api/auth/token` (or use the "
    "**Authorize** button), then call the other routes with `Authorization: Bearer <token>`."
)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The FastAPI app with the REST routes and the Gradio UI mounted at `/`.

    Pass `services` to reuse ones already built (tests, `main`); their settings win.
    """
    # Imported here so a failed start-up (bad DATABASE_URL...) exits before paying
    # the seconds it takes to import Gradio.
    import gradio as gr

    from ui.app import build_ui

    services = services or build_services(settings)
    settings = services.settings

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    # FastAPIOffline serves /docs and /redoc from packaged assets instead of a CDN.
    app = FastAPIOffline(
        title="Sentiscope",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        static_url="/docs-assets",
    )
    app.state.services = services
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,  # bearer tokens travel in a header, never in cookies
        )
    app.add_middleware(ScoringAdmission, limit=settings.SCORING_CONCURRENCY)
    app.add_middleware(SecurityHeadersMiddleware, frame_ancestors=settings.FRAME_ANCESTORS)
    install_api(app)  # routes must exist before Gradio takes over "/"
    return gr.mount_gradio_app(
        app,
        build_ui(services),
        path="/",
        max_file_size=settings.MAX_UPLOAD_MB * 1024 * 1024,
        show_error=False,  # gr.Error messages still show; unexpected exceptions do not
        ssr_mode=False,
        run_history=False,  # would keep every input, passwords included
        mcp_server=False,
        footer_links=["api", "settings"],
    )


def serving_line(host: str, port: int) -> str:
    """The address to open in a browser, and the interfaces when bound to all of them."""
    if host in BIND_ALL:
        return f"http://localhost:{port} (listening on all interfaces)"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def main() -> int:
    """Start Sentiscope, or explain in one paragraph why it cannot start."""
    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
        logging.getLogger().setLevel(settings.LOG_LEVEL)
        services = build_services(settings)
    except AppError as exc:
        logger.critical("Sentiscope cannot start. %s", exc.message)
        return 1
    app = create_app(services.settings, services)
    logger.info("Open %s; API docs at /docs", serving_line(settings.HOST, settings.PORT))
    uvicorn.run(app, host=settings.HOST, port=settings.PORT, log_level=settings.LOG_LEVEL.lower())
    return 0


if __name__ == "__main__":
    from ops.cli import run  # `serve` (the default) calls main(); see `python app.py --help`

    sys.exit(run(sys.argv[1:], serve=main))
