"""415 for a request body in a media type the operation does not take.

FastAPI hands a body it does not recognise as JSON to validation as raw bytes, which gives a 422
("Input should be a valid dictionary") where RFC 9110 (15.5.16) has 415. Every operation with a
body is wrapped here, from its own declaration: a form body takes
``application/x-www-form-urlencoded`` and ``multipart/form-data``, any other body
``application/json`` (and ``+json`` types). Operations without a body ignore one, as before.
"""

from __future__ import annotations

from fastapi import FastAPI, params
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from entrypoints.http.problems import problem

FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_MEDIA_TYPES = ("application/json",)


def accepted_media_types(route: APIRoute) -> tuple[str, ...] | None:
    """What the operation's body may be sent as; None when it takes no body."""
    if route.body_field is None:
        return None
    if isinstance(route.body_field.field_info, params.Form):
        return FORM_MEDIA_TYPES
    return JSON_MEDIA_TYPES


def _media_type(content_type: bytes) -> str:
    return content_type.split(b";", 1)[0].strip().decode("latin-1").lower()


def _acceptable(media_type: str, accepted: tuple[str, ...]) -> bool:
    if media_type in accepted:
        return True
    # RFC 6839 structured syntax suffix: application/merge-patch+json and the like are JSON.
    return accepted == JSON_MEDIA_TYPES and (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


class _RequireMediaType:
    def __init__(self, app: ASGIApp, accepted: tuple[str, ...]) -> None:
        self.app = app
        self.accepted = accepted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = next((v for n, v in scope["headers"] if n == b"content-type"), None)
        if content_type is None:
            # No body, no type: validation says what is missing. A body without a type is
            # application/octet-stream (RFC 9110, 8.3), which no operation here takes.
            acceptable = not _has_body(scope)
            media_type = "a body without Content-Type"
        else:
            media_type = _media_type(content_type)
            acceptable = _acceptable(media_type, self.accepted)
        if acceptable:
            await self.app(scope, receive, send)
            return
        response = problem(
            415,
            f"This operation takes {' or '.join(self.accepted)}, not {media_type[:100]}.",
        )
        await response(scope, receive, send)


def require_media_types(app: FastAPI) -> None:
    """Wrap every operation that takes a body; call after the routes are in place. The route
    objects belong to the routers' modules and are shared by every app built in a process (the
    tests build hundreds), so a route is wrapped once."""
    for route in app.router.routes:
        if (
            isinstance(route, APIRoute)
            and not isinstance(route.app, _RequireMediaType)
            and (accepted := accepted_media_types(route))
        ):
            route.app = _RequireMediaType(route.app, accepted)
