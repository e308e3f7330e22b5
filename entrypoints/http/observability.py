"""Pure ASGI middleware: one access-log line and one metrics observation per request.

It sits inside ``CorrelationIdMiddleware`` (so the request id is known) and outside everything
else (so a 413 or a 500 is counted and logged too). Per request: one ``perf_counter`` pair, one
counter increment, one histogram observation, one log call. The route label is the template the
router matched (``/users/{user_id}``), read from ``scope["route"]`` after the app ran, never the
raw path, so ids cannot multiply the number of time series.
"""

from __future__ import annotations

from time import perf_counter

import structlog
from asgi_correlation_id import correlation_id
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.metrics import UNMATCHED_ROUTE, HttpMetrics

access_log = structlog.get_logger("users_items.access")


class RequestObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless the app starts a response: an exception escaped it

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        request_id = correlation_id.get()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = perf_counter() - started
            template = _route_template(scope)
            method = scope["method"]
            self.metrics.observe(method, template, str(status), seconds)
            access_log.info(
                "request",
                method=method,
                route=template,
                status=status,
                duration_ms=round(seconds * 1000, 2),
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    if "endpoint" in scope:  # a mounted app (the docs assets): its prefix, never the file name
        return f"{scope.get('root_path', '')}/{{path}}"
    return UNMATCHED_ROUTE
