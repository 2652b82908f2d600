"""Liveness and readiness: is the database reachable, which model is configured."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ServicesDep
from errors import NotFound

router = APIRouter()


class Health(BaseModel):
    status: str
    database: str
    model: str


@router.get("/healthz", response_model=Health, tags=["health"])
def healthz(services: ServicesDep) -> JSONResponse:
    """`ok` when the database answers; 503 with `degraded` when it does not."""
    health = services.health()
    return JSONResponse(health, status_code=200 if health["status"] == "ok" else 503)


not_found_router = APIRouter(include_in_schema=False)


@not_found_router.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def api_not_found(path: str) -> None:
    """Unknown API paths answer in the API's error shape instead of reaching the UI."""
    raise NotFound(f"There is no API endpoint at /api/{path}. See /docs for the list.")
