"""GET /metrics: Prometheus text format, no authentication (keep it off the public listener)."""

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    operation_id="get_metrics",
    summary="Prometheus metrics: requests by route template and status, DB pool gauges",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def get_metrics(request: Request) -> Response:
    metrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=metrics.content_type)
