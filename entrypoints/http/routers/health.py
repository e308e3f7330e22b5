"""Liveness and readiness probes."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from application.check_readiness import CheckReadiness
from entrypoints.container import Container
from entrypoints.http.injection import provided

TAG = {"name": "health", "description": "Liveness and readiness probes for load balancers."}
router = APIRouter(prefix="/health", tags=[TAG["name"]])


class Health(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    status: Literal["ok"] = "ok"


class Readiness(Health):
    checks: dict[str, Literal["ok"]]


@router.get("/live", operation_id="check_liveness", summary="The process serves")
async def live() -> Health:
    """200 while the process serves; no dependency is checked."""
    return Health()


@router.get(
    "/ready",
    operation_id="check_readiness",
    summary="The database answered a real round trip within 1 s",
)
async def ready(
    check_readiness: Annotated[CheckReadiness, provided(Container.check_readiness)],
) -> Readiness:
    """200 after a real round trip to the database within 1 s; else 503 naming each failing
    check."""
    report = await check_readiness.execute()  # NotReady: 503 naming each check
    return Readiness(checks=dict(report.checks))
