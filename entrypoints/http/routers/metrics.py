"""GET /metrics: Prometheus text format, no authentication (keep it off the public listener)."""

from fastapi import APIRouter, Request, Response

TAG = {"name": "operations", "description": "Prometheus metrics."}
router = APIRouter(tags=[TAG["name"]])


@router.get(
    "/metrics",
    operation_id="get_metrics",
    summary="Prometheus metrics: requests by route template and status, DB pool gauges",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format 0.0.4",
            "content": {
                "text/plain": {
                    "schema": {
                        "type": "string",
                        "description": "One sample per line; its length grows with the routes "
                        "and statuses served.",
                    }
                }
            },
        }
    },
)
async def get_metrics(request: Request) -> Response:
    """Prometheus text format: request counts and latency histograms by route template and
    status, database pool gauges. No authentication: keep it off the public listener."""
    metrics = request.app.state.metrics
    return Response(await metrics.render(), media_type=metrics.content_type)
