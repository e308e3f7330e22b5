"""RFC 9457 problem details: the one table that maps errors to HTTP statuses, and the handlers.

Every 4xx/5xx leaves the service as ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``; ``type`` is ``about:blank``, so ``title`` is the status phrase and
``detail`` says what happened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ExceptionHandler

from application.errors import (
    ApplicationError,
    EmailAlreadyVerified,
    InvalidAccountToken,
    InvalidCredentials,
    InvalidRefreshToken,
    ItemNotFound,
    LastActiveAdmin,
    LoginThrottled,
    LoginThrottleUnavailable,
    NotAdmin,
    NotAuthenticated,
    NotResourceOwner,
    PasswordHashingBusy,
    PasswordRejected,
    ReauthenticationRequired,
    RequestsThrottled,
    SessionNotFound,
    StorageUnavailable,
    UserAlreadyExists,
    UsernameNotFound,
    UserNotFound,
    WrongPassword,
)
from entrypoints.http.security_headers import security_headers

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}

logger = logging.getLogger("users_items.http")


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class ProblemWithErrors(Problem):
    errors: list[FieldError]


class UnexpectedProblem(Problem):
    request_id: str


def problem(
    status: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extensions,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


@dataclass(frozen=True, slots=True)
class _Mapping:
    status: int
    detail: Callable[[Any], str]
    # Fixed headers, or a function of the error for headers that carry its data (Retry-After).
    headers: Mapping[str, str] | Callable[[Any], Mapping[str, str]] | None = None
    errors: Callable[[Any], list[dict[str, str]]] | None = None


# The one table. A new application error gets its status here and nowhere else.
ERROR_STATUSES: dict[type[ApplicationError], _Mapping] = {
    UserNotFound: _Mapping(404, lambda e: f"User {e.user_id} does not exist."),
    UsernameNotFound: _Mapping(404, lambda e: "No user has this username."),
    ItemNotFound: _Mapping(404, lambda e: f"Item {e.item_id} does not exist."),
    UserAlreadyExists: _Mapping(
        409,
        lambda e: f"An account with this {' and '.join(e.fields)} already exists.",
        errors=lambda e: [{"field": f, "message": f"{f} is already taken"} for f in e.fields],
    ),
    NotResourceOwner: _Mapping(403, lambda e: "This resource belongs to another user."),
    InvalidCredentials: _Mapping(
        401, lambda e: "Incorrect username or password.", headers=_BEARER_CHALLENGE
    ),
    NotAuthenticated: _Mapping(
        401,
        lambda e: "A valid access token is required (Authorization: Bearer <token>).",
        headers=_BEARER_CHALLENGE,
    ),
    StorageUnavailable: _Mapping(
        503,
        lambda e: "The database is unavailable; try again shortly.",
        headers={"Retry-After": "1"},
    ),
    InvalidRefreshToken: _Mapping(
        401,
        lambda e: "The refresh token is unknown, expired or no longer valid; log in again.",
        headers=_BEARER_CHALLENGE,
    ),
    LoginThrottled: _Mapping(
        429,
        lambda e: f"Too many failed logins; try again in {e.retry_after_seconds} seconds.",
        headers=lambda e: {"Retry-After": str(e.retry_after_seconds)},
    ),
    LoginThrottleUnavailable: _Mapping(
        503,
        lambda e: "Logging in is unavailable right now; try again shortly.",
        headers={"Retry-After": "1"},
    ),
    PasswordHashingBusy: _Mapping(
        503,
        lambda e: "The service is busy; try again shortly.",
        headers=lambda e: {"Retry-After": str(e.retry_after_seconds)},
    ),
    PasswordRejected: _Mapping(
        422,
        lambda e: f"The {e.field.replace('_', ' ')} {e.reason}.",
        errors=lambda e: [{"field": f"body.{e.field}", "message": e.reason}],
    ),
    InvalidAccountToken: _Mapping(
        400, lambda e: "The token is unknown, expired or already used; ask for a new email."
    ),
    EmailAlreadyVerified: _Mapping(
        409,
        lambda e: "The email address is verified already.",
        errors=lambda e: [{"field": "email", "message": "is verified already"}],
    ),
    WrongPassword: _Mapping(403, lambda e: "The current password is not correct."),
    ReauthenticationRequired: _Mapping(
        401,
        lambda e: (
            f"This change needs a login at most {e.max_age_seconds} seconds old; log in "
            "again with your password."
        ),
        # RFC 9470 section 3: the challenge names the error and the maximum age of a login.
        headers=lambda e: {
            "WWW-Authenticate": 'Bearer error="insufficient_user_authentication", '
            f"max_age={e.max_age_seconds}"
        },
    ),
    NotAdmin: _Mapping(403, lambda e: "Only an administrator may do this."),
    LastActiveAdmin: _Mapping(
        409,
        lambda e: "This change would leave no active administrator.",
        errors=lambda e: [
            {"field": "is_admin", "message": "the last active administrator must stay one"}
        ],
    ),
    SessionNotFound: _Mapping(404, lambda e: f"You have no session {e.session_id}."),
    RequestsThrottled: _Mapping(
        429,
        lambda e: f"Too many requests of this kind; try again in {e.retry_after_seconds} seconds.",
        headers=lambda e: {"Retry-After": str(e.retry_after_seconds)},
    ),
}


def _mapping_for(error: ApplicationError) -> _Mapping | None:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUSES:
            return ERROR_STATUSES[cls]
    return None


async def _application_error(request: Request, error: ApplicationError) -> JSONResponse:
    mapping = _mapping_for(error)
    if mapping is None:
        return await _unexpected_error(request, error)
    extensions = {"errors": mapping.errors(error)} if mapping.errors else {}
    headers = mapping.headers(error) if callable(mapping.headers) else mapping.headers
    return problem(mapping.status, mapping.detail(error), headers=headers, **extensions)


def _field_name(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "field": _field_name(e.get("loc", ())),
            # pydantic prefixes our own validators' messages; the field already says enough.
            "message": str(e.get("msg", "invalid")).removeprefix("Value error, "),
        }
        for e in error.errors()
    ]
    return problem(422, "The request is not valid; see errors.", errors=errors)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    if detail == HTTPStatus(error.status_code).phrase:
        detail = _DEFAULT_DETAILS.get(error.status_code, detail)
    headers = dict(error.headers or {})
    if error.status_code == 405 and (allowed := _allowed_methods(request)):
        headers["Allow"] = allowed
    return problem(error.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> str | None:
    """Every method the API serves at this path, read from the OpenAPI schema. Starlette's own
    405 names only the methods of the first route that matched, e.g. just POST for /users,
    which serves GET too."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), request.url.path):
            methods |= {method.upper() for method in operations}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods)) or None


_DEFAULT_DETAILS = {
    404: "There is nothing at this path.",
    405: "This path does not support this method.",
}


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    # Set by CorrelationIdMiddleware in this request's context (the client's valid id or a new
    # one); the handler runs outside that middleware, in the same task.
    request_id = correlation_id.get() or "unknown"
    logger.exception("unhandled error", extra={"request_id": request_id})
    return problem(
        500,
        f"An unexpected error occurred; quote request id {request_id} when reporting it.",
        # Sent by Starlette's ServerErrorMiddleware, outside SecurityHeadersMiddleware.
        headers={REQUEST_ID_HEADER: request_id, **security_headers(request.url.path)},
        request_id=request_id,
    )


def install_problem_handlers(app: FastAPI) -> None:
    # Starlette types handlers as taking any Exception; each of ours takes the class it is for.
    app.add_exception_handler(ApplicationError, cast(ExceptionHandler, _application_error))
    app.add_exception_handler(RequestValidationError, cast(ExceptionHandler, _validation_error))
    app.add_exception_handler(StarletteHTTPException, cast(ExceptionHandler, _http_error))
    app.add_exception_handler(Exception, _unexpected_error)


def _response_model(status: int) -> type[Problem]:
    if status in (409, 422):
        return ProblemWithErrors
    if status == 500:
        return UnexpectedProblem
    return Problem


_DESCRIPTIONS = {
    400: "The body could not be read (e.g. not UTF-8), or the token it carries is unknown, "
    "expired or used.",
    401: "Missing, malformed, expired or forged access token, or an inactive user; or, where "
    "a fresh login is needed, a login older than REAUTH_MAX_AGE_SECONDS (`WWW-Authenticate: "
    'Bearer error="insufficient_user_authentication", max_age=...`).',
    403: "The resource belongs to another user, the caller is not an admin, or the current "
    "password is wrong.",
    404: "No such resource.",
    409: "The email or username is already taken, or the change conflicts with the account's "
    "state; `errors` names the field.",
    413: "The request body exceeds 1 MiB.",
    422: "The request is not valid; `errors` names each field.",
    429: "Too many failed logins, or too many emails asked for, from this account or address; "
    "see `Retry-After`.",
    500: "An unexpected error; the body names the request id.",
    503: "A dependency (the database) is unavailable, or password hashing is saturated; see "
    "`Retry-After`.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses, each with its problem schema."""
    return {
        status: {"model": _response_model(status), "description": _DESCRIPTIONS[status]}
        for status in (*statuses, 500)
    }
