"""Liveness and readiness: is the database reachable, which model is configured."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.deps import ServicesDep

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
