"""Liveness and readiness probes."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from application.check_readiness import CheckReadiness
from entrypoints.container import Container
from entrypoints.http.injection import provided
from entrypoints.http.problems import problem, problem_responses
from entrypoints.http.schemas import Health, Readiness

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", operation_id="check_liveness", summary="The process serves")
async def live() -> Health:
    return Health()


@router.get(
    "/ready",
    operation_id="check_readiness",
    summary="The database answered a real round trip within 1 s",
    response_model=Readiness,
    responses=problem_responses(503),
)
async def ready(
    check_readiness: Annotated[CheckReadiness, provided(Container.check_readiness)],
) -> Readiness | JSONResponse:
    report = await check_readiness.execute()
    if report.ready:
        return Readiness(checks=dict(report.checks))
    failing = ", ".join(
        f"{name} ({state})" for name, state in report.checks.items() if state != "ok"
    )
    return problem(503, f"Not ready: {failing}.", checks=dict(report.checks))
