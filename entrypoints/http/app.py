"""The FastAPI application factory."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from entrypoints.container import Container
from entrypoints.http import docs
from entrypoints.http.media_types import require_media_types
from entrypoints.http.metrics import build_metrics
from entrypoints.http.middleware import (
    BodySizeLimitMiddleware,
    HeadAsGetMiddleware,
    SecurityHeadersMiddleware,
)
from entrypoints.http.observability import RequestObservabilityMiddleware
from entrypoints.http.openapi import build_schema
from entrypoints.http.problems import REQUEST_ID_HEADER, install_problem_handlers
from entrypoints.http.routers import account, admin, auth, health, items, metrics, mfa, users

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Every router module of the API, in the order of the schema's paths. Each has its `router` and
# the `TAG` (name and description) its operations are listed under in the docs.
ROUTER_MODULES = (users, account, mfa, items, auth, admin, health, metrics)
ROUTERS = tuple(module.router for module in ROUTER_MODULES)
OPENAPI_TAGS = [module.TAG for module in ROUTER_MODULES]

_NO_OPENTELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

logger = logging.getLogger("users_items.http")


def create_app(container: Container | None = None) -> FastAPI:
    """Build the app around ``container`` (a fresh one from the environment by default); the
    routes resolve what they need from ``app.state.container``."""
    container = container or Container()
    container.settings()  # fail fast, with pydantic's message, on a bad configuration

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # uvicorn has stopped accepting and the requests in flight have finished (SIGTERM).
        await container.engine().dispose()
        logger.info("database connections closed")
        container.password_hasher().close()

    app = FastAPI(
        title="users-items",
        version="0.1.0",
        summary="Users who sign up, log in and own items.",
        description=(
            "Errors are RFC 9457 problem details (`application/problem+json`). Every operation "
            "documents each status it can answer; any request body over 1 MiB is 413, and a "
            "method a path does not serve is 405 with `Allow`. Every response carries "
            "`X-Request-ID`."
        ),
        lifespan=lifespan,
        openapi_url=None,  # these three are served by entrypoints.http.docs
        docs_url=None,
        redoc_url=None,
        openapi_tags=OPENAPI_TAGS,
        # Routes name their operation ids; a route that does not gets its function's name
        # (create_user), never FastAPI's default of name + path + method.
        generate_unique_id_function=lambda route: route.name,
        # Metrics are Prometheus (/metrics) and logs structlog; FastAPI's native OpenTelemetry
        # would otherwise look up the global OTel providers on every request to find them unset.
        telemetry=_NO_OPENTELEMETRY,
    )
    app.state.container = container
    app.state.metrics = build_metrics(container)
    install_problem_handlers(app)
    for router in ROUTERS:
        # The routes join the app's own route table (decision 0030): FastAPI keeps an included
        # router as a nested matcher that matches each request twice, a cost on every request.
        # The routers carry their prefix, tags and responses on each route, so the schema is the
        # same (tests/api/test_openapi.py).
        app.router.routes.extend(router.routes)
    docs.install(app)
    require_media_types(app)  # 415 for a body in a media type the operation does not take

    # Outermost last: the request id wraps everything, so even a 413 carries it, and the access
    # log and metrics see every request, refused ones included; the security headers wrap
    # that. (A 500 leaves through Starlette's ServerErrorMiddleware, outside all of these;
    # problems.py's handler adds the same headers itself.) HEAD is served as GET innermost, so
    # the access log and metrics still say HEAD.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(RequestObservabilityMiddleware, metrics=app.state.metrics.http)
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=lambda value: _SANE_REQUEST_ID.fullmatch(value) is not None,
        # Read from its context variable, never from the request's headers: rewriting those
        # on every request cost more than the rest of the middleware.
        update_request_header=False,
        generator=lambda: secrets.token_hex(16),  # uuid4().hex's format, without the UUID
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """Built once, on first request (entrypoints/http/openapi.py)."""
    if app.openapi_schema is None:
        app.openapi_schema = build_schema(app)
    return app.openapi_schema
