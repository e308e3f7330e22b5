"""Request-scoped dependencies shared by the routers: the caller, and the page asked for."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import OAuth2PasswordBearer

from application.errors import NotAuthenticated
from application.get_current_user import Caller, GetCurrentUser
from application.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PageRequest
from domain.user import User
from entrypoints.container import Container
from entrypoints.http.cursors import CURSOR_LENGTH, CURSOR_PATTERN, CursorCodec, InvalidCursor
from entrypoints.http.injection import resolves

# Declares the Bearer scheme (and Swagger UI's "Authorize" password flow); we raise our own 401.
bearer_token = OAuth2PasswordBearer(
    tokenUrl="/auth/token",
    refreshUrl="/auth/refresh",
    auto_error=False,
    description=(
        "Access tokens are JWTs (HS256) that live ACCESS_TOKEN_TTL_SECONDS (15 minutes by "
        "default), handled as RFC8725 (JSON Web Token Best Current Practices) advises: the "
        "algorithm is pinned (no `none`, no algorithm confusion), and `exp`, `iat`, `iss`, "
        "`aud` and `sub` are required and checked. `POST /auth/refresh` spends the single-use "
        "refresh token for a new pair."
    ),
)


def client_address(request: Request) -> str | None:
    """The TCP peer; behind a proxy, uvicorn's --proxy-headers (on in `serve`) puts the client
    from X-Forwarded-For here when the proxy is in FORWARDED_ALLOW_IPS."""
    return request.client.host if request.client else None


@asynccontextmanager
async def _authenticated(request: Request, token: str | None) -> AsyncIterator[Caller]:
    """The caller; and, until the route's function returns, the one database connection that
    the caller look-up, the route's queries and its unit of work share (docs/decisions/0038)."""
    if not token:
        raise NotAuthenticated
    container = request.app.state.container
    # Resolved here rather than as a sub-dependency: every protected request runs this, and
    # each dependency FastAPI solves costs more than the provider call itself.
    get_current_user: GetCurrentUser = container.get_current_user()
    async with container.database().shared_connection():
        yield await get_current_user.execute(token)


@resolves(Container.get_current_user)
async def current_user(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> AsyncIterator[User]:
    async with _authenticated(request, token) as caller:
        yield caller.user


@resolves(Container.get_current_user)
async def current_caller(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> AsyncIterator[Caller]:
    """The caller with their access token's claims (its login's time, its session)."""
    async with _authenticated(request, token) as caller:
        yield caller


# scope="function": the connection goes back when the route's function returns, before the
# response is serialised and sent.
CurrentUser = Annotated[User, Depends(current_user, scope="function")]
CurrentCaller = Annotated[Caller, Depends(current_caller, scope="function")]

_ID_RANGE = Path(ge=1, le=2**63 - 1, json_schema_extra={"format": "int64"})
UserIdPath = Annotated[int, _ID_RANGE]
ItemIdPath = Annotated[int, _ID_RANGE]
SessionIdPath = Annotated[int, _ID_RANGE]


@dataclass(frozen=True, slots=True)
class Paging:
    """The page a list request asks for, and how to write the cursor of the page after it."""

    request: PageRequest
    codec: CursorCodec
    scope: str  # the request path: a cursor only works where it was issued

    def cursor_after(self, after_id: int | None) -> str | None:
        return None if after_id is None else self.codec.encode(after_id, self.scope)


async def paging(
    request: Request,
    limit: Annotated[
        int,
        Query(ge=1, le=MAX_PAGE_SIZE, json_schema_extra={"format": "int32"}),
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=CURSOR_LENGTH,
            max_length=CURSOR_LENGTH,
            pattern=CURSOR_PATTERN,
            description="The `next_cursor` of the previous page. Only a cursor this service "
            "issued, for this same path, is accepted: any other value, even one of this "
            "pattern, is 422.",
        ),
    ] = None,
) -> Paging:
    codec: CursorCodec = request.app.state.container.cursor_codec()
    scope = request.scope["path"]  # what request.url.path reads, without building the URL
    if cursor is None:
        return Paging(PageRequest(limit=limit), codec, scope)
    try:
        after_id = codec.decode(cursor, scope)
    except InvalidCursor as error:
        raise RequestValidationError(
            [{"loc": ("query", "cursor"), "msg": str(error), "type": "value_error"}]
        ) from None
    return Paging(PageRequest(limit=limit, after_id=after_id), codec, scope)


PagingQuery = Annotated[Paging, Depends(paging)]
