"""Pure ASGI middleware: a request-body size limit applied before anything parses the body, and
the security headers every response carries."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import problem
from entrypoints.http.security_headers import is_auth_path, security_headers

MAX_BODY_BYTES = 1024 * 1024


class BodySizeLimitMiddleware:
    """Answer 413 for a body over ``max_bytes``: at once when ``Content-Length`` says so, else as
    soon as the chunks received pass the limit (chunked uploads have no length).

    A declared length at or under the limit needs no watching: the HTTP parser never hands the
    app more bytes than ``Content-Length`` frames, and a request with neither header has no body
    (RFC 9112, 6.3). So only a chunked body is read here, up to the limit, and replayed to the
    app, so nothing downstream ever starts parsing an oversized body; every other request passes
    straight through.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = _body_framing(scope)
        if not chunked:
            if declared is not None and declared > self.max_bytes:
                await _too_large(scope, receive, send, self.max_bytes)
            else:
                await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _too_large(scope, receive, send, self.max_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body_message: Message = {
            "type": "http.request",
            "body": b"".join(chunks),
            "more_body": False,
        }
        await self.app(scope, _replay([body_message], receive), send)


def _body_framing(scope: Scope) -> tuple[int | None, bool]:
    """``(Content-Length or None, whether Transfer-Encoding is set)``; an unreadable length
    counts as none (the HTTP server refuses such a request before it gets here)."""
    declared: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif name == b"transfer-encoding":
            chunked = True
    return declared, chunked


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


async def _too_large(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    response = problem(
        413,
        f"The request body exceeds the limit of {max_bytes} bytes.",
        headers={"Connection": "close"},  # stop reading what the client still sends
    )
    await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """Adds ``security_headers`` to the response start message: no body buffering, no
    ``BaseHTTPMiddleware`` task per request. The headers are kept encoded, and set by one pass
    over the raw header list (a same-named header the app set is replaced)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Encoded once for each kind of path: /auth/... and everything else.
        self._encoded: dict[bool, tuple[frozenset[bytes], list[tuple[bytes, bytes]]]] = {}
        for auth in (False, True):
            pairs = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in security_headers("/auth" if auth else "/").items()
            ]
            self._encoded[auth] = (frozenset(name for name, _ in pairs), pairs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names, extra = self._encoded[is_auth_path(scope["path"])]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [pair for pair in message.get("headers", ()) if pair[0] not in names]
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGetMiddleware:
    """``HEAD`` is answered wherever ``GET`` is (RFC 9110, 9.3.2): the app sees a ``GET`` and
    its answer leaves with the same status and headers (``Content-Length`` included) and no body.

    The app runs on a copy of the scope, since the server reads the original's method to know
    that no body goes out; the matched route is copied back for the access log and metrics.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            for key in ("route", "endpoint"):
                if key in as_get:
                    scope[key] = as_get[key]
