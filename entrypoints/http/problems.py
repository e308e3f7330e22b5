"""RFC 9457 problem details: the one table that maps errors to HTTP statuses, and the handlers.

Every 4xx/5xx leaves the service as ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``; ``type`` is ``about:blank``, so ``title`` is the status phrase and
``detail`` says what happened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal, cast

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
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
    NotAdmin,
    NotAuthenticated,
    NotReady,
    NotResourceOwner,
    PasswordHashingBusy,
    PasswordRejected,
    ReauthenticationRequired,
    SessionNotFound,
    StorageUnavailable,
    Throttled,
    ThrottleUnavailable,
    UserAlreadyExists,
    UsernameNotFound,
    UserNotFound,
    WrongPassword,
)
from entrypoints.http.security_headers import security_headers

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_HEADER = "X-Request-ID"
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_INT32_MAX = 2**31 - 1
# The longest field location: an unknown field is named as sent, and a body is at most 1 MiB.
_FIELD_MAX_LENGTH = 1024 * 1024 + 16
MAX_VALIDATION_ERRORS = 20  # the contract's cap on a 422's `errors`

logger = logging.getLogger("users_items.http")


class FieldError(BaseModel):
    field: str = Field(
        max_length=_FIELD_MAX_LENGTH,
        description="Dotted location, e.g. `body.email`; an unknown field is named as sent.",
        examples=["body.email"],
    )
    message: str = Field(max_length=1000, examples=["value is not a valid email address"])


class Problem(BaseModel):
    """RFC 9457 problem details; every member is always sent."""

    # Every member is required in the schema: the service always sends ``type``.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    type: str = Field(
        default="about:blank",
        max_length=200,
        json_schema_extra={"format": "uri-reference"},
        examples=["about:blank"],
    )
    title: str = Field(max_length=64, description="The status phrase.", examples=["Not Found"])
    status: int = Field(
        ge=400, le=599, json_schema_extra={"format": "int32"}, description="The HTTP status."
    )
    detail: str = Field(max_length=2000, description="What happened, as a sentence.")


class ProblemWithErrors(Problem):
    errors: list[FieldError] = Field(min_length=1, max_length=MAX_VALIDATION_ERRORS)


class ReadinessProblem(Problem):
    checks: dict[str, Literal["ok", "timeout", "unavailable"]] = Field(
        description="Each dependency's state.", examples=[{"database": "unavailable"}]
    )


class UnexpectedProblem(Problem):
    request_id: str = Field(
        pattern=r"^[A-Za-z0-9._-]{1,128}$",
        max_length=128,
        description="Quote it when reporting the error; the logs carry it.",
    )


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
    description: str  # when it happens, for the OpenAPI schema
    # Each header, fixed or a function of the error (Retry-After carries the error's data).
    headers: Mapping[str, str | Callable[[Any], str]] = field(default_factory=dict)
    extensions: Callable[[Any], dict[str, Any]] | None = None
    model: type[Problem] = Problem


_RETRY_SOON = {"Retry-After": "1"}

# The one table. A new application error gets its status here and nowhere else; each operation
# documents the rows of the errors its use case and adapters declare (entrypoints/http/openapi.py).
ERROR_STATUSES: dict[type[ApplicationError], _Mapping] = {
    UserNotFound: _Mapping(
        404, lambda e: f"User {e.user_id} does not exist.", "No user has this id."
    ),
    UsernameNotFound: _Mapping(
        404, lambda e: "No user has this username.", "No user has this username."
    ),
    ItemNotFound: _Mapping(
        404, lambda e: f"Item {e.item_id} does not exist.", "No item has this id."
    ),
    UserAlreadyExists: _Mapping(
        409,
        lambda e: f"An account with this {' and '.join(e.fields)} already exists.",
        "The email or the username (compared case-insensitively) is taken; `errors` names "
        "each taken field.",
        extensions=lambda e: {
            "errors": [{"field": f, "message": f"{f} is already taken"} for f in e.fields]
        },
        model=ProblemWithErrors,
    ),
    NotResourceOwner: _Mapping(
        403,
        lambda e: "This resource belongs to another user.",
        "The resource belongs to another user.",
    ),
    InvalidCredentials: _Mapping(
        401,
        lambda e: "Incorrect username or password.",
        "Unknown user, wrong password or inactive account (one answer for all three).",
        headers=_BEARER_CHALLENGE,
    ),
    NotAuthenticated: _Mapping(
        401,
        lambda e: "A valid access token is required (Authorization: Bearer <token>).",
        "The access token is missing, malformed, expired or forged, or its user is inactive "
        "or gone.",
        headers=_BEARER_CHALLENGE,
    ),
    StorageUnavailable: _Mapping(
        503,
        lambda e: "The database is unavailable; try again shortly.",
        "The database is unavailable; retry after `Retry-After` seconds.",
        headers=_RETRY_SOON,
    ),
    InvalidRefreshToken: _Mapping(
        401,
        lambda e: "The refresh token is unknown, expired or no longer valid; log in again.",
        "The refresh token is unknown, expired, spent or revoked; presenting a spent one "
        "revokes every token of its login.",
        headers=_BEARER_CHALLENGE,
    ),
    Throttled: _Mapping(
        429,
        lambda e: f"Too many {e.counts}; try again in {e.retry_after_seconds} seconds.",
        "Too many attempts: failed logins for this account from this address, from this "
        "address or for this account; retry after `Retry-After` seconds.",
        headers={"Retry-After": lambda e: str(e.retry_after_seconds)},
    ),
    ThrottleUnavailable: _Mapping(
        503,
        lambda e: "This is unavailable right now; try again shortly.",
        "The throttle's counts cannot be read, so the attempt is refused; retry after "
        "`Retry-After` seconds.",
        headers=_RETRY_SOON,
    ),
    PasswordHashingBusy: _Mapping(
        503,
        lambda e: "The service is busy; try again shortly.",
        "Password hashing is saturated; retry after `Retry-After` seconds.",
        headers={"Retry-After": lambda e: str(e.retry_after_seconds)},
    ),
    PasswordRejected: _Mapping(
        422,
        lambda e: f"The {e.field.replace('_', ' ')} {e.reason}.",
        "The password is refused by the password policy (too short or long, among the 10,000 "
        "most common, or containing the username or the email's local part); `errors` says why.",
        extensions=lambda e: {"errors": [{"field": f"body.{e.field}", "message": e.reason}]},
        model=ProblemWithErrors,
    ),
    InvalidAccountToken: _Mapping(
        400,
        lambda e: "The token is unknown, expired or already used; ask for a new email.",
        "The emailed token is unknown, expired or already used.",
    ),
    EmailAlreadyVerified: _Mapping(
        409,
        lambda e: "The email address is verified already.",
        "The email address is verified already; `errors` names it.",
        extensions=lambda e: {"errors": [{"field": "email", "message": "is verified already"}]},
        model=ProblemWithErrors,
    ),
    WrongPassword: _Mapping(
        403,
        lambda e: "The current password is not correct.",
        "The current password is wrong (it counts as a failed login).",
    ),
    ReauthenticationRequired: _Mapping(
        401,
        lambda e: (
            f"This change needs a login at most {e.max_age_seconds} seconds old; log in "
            "again with your password."
        ),
        "The change needs a fresh login (RFC 9470): at most REAUTH_MAX_AGE_SECONDS old.",
        # RFC 9470 section 3: the challenge names the error and the maximum age of a login.
        headers={
            "WWW-Authenticate": lambda e: (
                f'Bearer error="insufficient_user_authentication", max_age={e.max_age_seconds}'
            )
        },
    ),
    NotAdmin: _Mapping(
        403, lambda e: "Only an administrator may do this.", "The caller is not an admin."
    ),
    LastActiveAdmin: _Mapping(
        409,
        lambda e: "This change would leave no active administrator.",
        "The change would leave no active admin; `errors` names the field.",
        extensions=lambda e: {
            "errors": [
                {"field": "is_admin", "message": "the last active administrator must stay one"}
            ]
        },
        model=ProblemWithErrors,
    ),
    SessionNotFound: _Mapping(
        404,
        lambda e: f"You have no session {e.session_id}.",
        "The caller has no session with this id.",
    ),
    NotReady: _Mapping(
        503,
        lambda e: f"Not ready: {e.failing}.",
        "A dependency did not answer within 1 s; `checks` names each one's state.",
        extensions=lambda e: {"checks": e.checks},
        model=ReadinessProblem,
    ),
}

# What the HTTP layer itself answers, before any use case runs: rows for the schema only (the
# middleware, Starlette and the handlers below write these answers, so `detail` goes unused).
BODY_PROBLEMS: dict[int, _Mapping] = {
    400: _Mapping(
        400,
        lambda e: "The body could not be parsed.",
        "The body could not be parsed (e.g. malformed multipart, or bytes that are not UTF-8).",
    ),
    413: _Mapping(413, lambda e: "", "The request body exceeds 1 MiB."),
    415: _Mapping(415, lambda e: "", "The body's media type is not one this operation takes."),
}
VALIDATION_PROBLEM = _Mapping(
    422,
    lambda e: "The request is not valid; see errors.",
    f"The request is not valid; `errors` names each field (at most {MAX_VALIDATION_ERRORS}).",
    model=ProblemWithErrors,
)
UNEXPECTED_PROBLEM = _Mapping(
    500,
    lambda e: "",
    "An unexpected error; the body names the request id, never the cause.",
    model=UnexpectedProblem,
)


def _mapping_for(error: ApplicationError) -> _Mapping | None:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUSES:
            return ERROR_STATUSES[cls]
    return None


def mapping_for_class(error: type[ApplicationError]) -> _Mapping:
    """The table's row for an error class (or its nearest listed base); a declared error with
    no row fails the schema's construction, so it never reaches a client as a 500."""
    for cls in error.__mro__:
        if cls in ERROR_STATUSES:
            return ERROR_STATUSES[cls]
    raise LookupError(f"{error.__name__} has no status in problems.ERROR_STATUSES")


async def _application_error(request: Request, error: ApplicationError) -> JSONResponse:
    mapping = _mapping_for(error)
    if mapping is None:
        return await _unexpected_error(request, error)
    extensions = mapping.extensions(error) if mapping.extensions else {}
    headers = {
        name: value(error) if callable(value) else value for name, value in mapping.headers.items()
    }
    return problem(mapping.status, mapping.detail(error), headers=headers, **extensions)


def _field_name(location: Sequence[Any]) -> str:
    return ".".join(str(part) for part in location)


# A 422 lists at most this many errors, each field name and message cut to a bounded length:
# a small hostile body (a 1 MiB object of unknown keys) never makes a large answer.
MAX_LISTED_ERRORS = 20
_MAX_ERROR_TEXT = 200


def _bounded(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_TEXT else f"{text[: _MAX_ERROR_TEXT - 3]}..."


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    found = error.errors()
    errors = [
        {
            "field": _bounded(_field_name(e.get("loc", ()))),
            # pydantic prefixes our own validators' messages; the field already says enough.
            "message": _bounded(str(e.get("msg", "invalid")).removeprefix("Value error, ")),
        }
        for e in found[:MAX_LISTED_ERRORS]
    ]
    detail = "The request is not valid; see errors."
    if len(found) > MAX_LISTED_ERRORS:
        detail = f"The request is not valid; see errors (the first {MAX_LISTED_ERRORS} listed)."
    return problem(422, detail, errors=errors)


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


# Response headers as the schema describes them.
HEADERS: dict[str, dict[str, Any]] = {
    "WWW-Authenticate": {
        "description": "The scheme to authenticate with: `Bearer` (RFC 6750), possibly with "
        "parameters such as `error`.",
        "schema": {"type": "string", "pattern": "^Bearer( .*)?$", "maxLength": 500},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "format": "int32", "minimum": 0, "maximum": _INT32_MAX},
    },
    "Location": {
        "description": "The path of the resource just created.",
        "schema": {"type": "string", "format": "uri-reference", "maxLength": 64},
    },
}
PROBLEM_MODELS: tuple[type[Problem], ...] = (
    Problem,
    ProblemWithErrors,
    ReadinessProblem,
    UnexpectedProblem,
)


def problem_responses(mappings: Iterable[_Mapping]) -> dict[str, dict[str, Any]]:
    """OpenAPI ``responses`` for these table rows, one per status: each reason in the
    description, the union of their headers, their problem schema (``$ref`` into
    ``#/components/schemas``, see ``PROBLEM_MODELS``)."""
    by_status: dict[int, list[_Mapping]] = {}
    for mapping in mappings:
        by_status.setdefault(mapping.status, []).append(mapping)
    responses: dict[str, dict[str, Any]] = {}
    for status in sorted(by_status):
        rows = by_status[status]
        descriptions = list(dict.fromkeys(row.description for row in rows))
        models = list(dict.fromkeys(row.model for row in rows))
        refs = [{"$ref": f"#/components/schemas/{model.__name__}"} for model in models]
        response: dict[str, Any] = {
            "description": " ".join(descriptions)
            if len(descriptions) == 1
            else "One of: " + " / ".join(descriptions),
            "content": {PROBLEM_JSON: {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}},
        }
        header_names = sorted({name for row in rows for name in row.headers})
        if header_names:
            # Sent with every answer of this status on this operation: required.
            response["headers"] = {
                name: {**HEADERS[name], "required": all(name in row.headers for row in rows)}
                for name in header_names
            }
        responses[str(status)] = response
    return responses
