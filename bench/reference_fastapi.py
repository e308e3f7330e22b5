"""The benchmark's second yardstick: the service's hot endpoints as a plain FastAPI app.

What a FastAPI user would write for the same work, with nothing of ours in between: an asyncpg
pool, one ``yield`` dependency that checks out a connection, verifies the HS256 bearer token
(PyJWT, the same required claims, issuer and audience, through ``OAuth2PasswordBearer`` as the
service declares it) and looks the caller up (active, credentials version), and the same SQL on
that connection. Path and query parameters, the request body and the responses are declared with
the service's own pydantic models (``response_model`` validates and serialises each answer), and
the keyset cursors are bench/reference_app.py's, HMAC-signed and bound to the path. No SQLAlchemy,
no DI container, no middleware beyond FastAPI's own: FastAPI's floor on this work.

Run by bench/run.py: ``uvicorn reference_fastapi:app --app-dir bench``; configured by
REFERENCE_DATABASE_URL, REFERENCE_JWT_SECRET and REFERENCE_POOL_SIZE, like reference_app.py.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import reference_app
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel, Field
from reference_app import (
    INSERT_ITEM,
    ITEM_BY_ID,
    ITEMS_AFTER,
    ITEMS_OF_OWNER_AFTER,
    MAX_LIMIT,
    USER_BY_ID,
    Problem,
    caller_claims,
    encode_cursor,
    page_request,
)

from entrypoints.http.schemas import Description as DescriptionField
from entrypoints.http.schemas import ItemOut, NextCursor, RequestModel, UserPublic
from entrypoints.http.schemas import Title as TitleField

bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True, slots=True)
class Caller:
    row: asyncpg.Record
    connection: asyncpg.Connection


async def caller(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> AsyncIterator[Caller]:
    """The active caller, and the pooled connection the route runs its SQL on."""
    if not token:
        raise HTTPException(401, "Not authenticated")
    try:
        user_id, version = caller_claims(request)
    except Problem:
        raise HTTPException(401, "Not authenticated") from None
    async with reference_app.pool.acquire() as connection:
        row = await connection.fetchrow(USER_BY_ID, user_id)
        if row is None or not row["is_active"] or row["credentials_version"] != version:
            raise HTTPException(401, "Not authenticated")
        yield Caller(row, connection)


# Like the service's: the connection goes back when the route's function returns.
CurrentCaller = Annotated[Caller, Depends(caller, scope="function")]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


class ItemCreate(RequestModel):
    title: TitleField
    description: DescriptionField | None = None


class ItemPage(BaseModel):
    items: list[ItemOut] = Field(max_length=MAX_LIMIT)
    next_cursor: NextCursor


def _page(request: Request, limit: int, cursor: str | None) -> tuple[int, int]:
    del limit, cursor  # validated by FastAPI; read and the cursor's MAC checked here
    try:
        return page_request(request)
    except Problem as error:
        raise HTTPException(422, error.title) from None


def _item_page(rows: list[asyncpg.Record], limit: int, scope: str) -> dict[str, Any]:
    next_cursor = encode_cursor(rows[limit - 1]["id"], scope) if len(rows) > limit else None
    return {"items": [dict(row) for row in rows[:limit]], "next_cursor": next_cursor}


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(min_length=32, max_length=32)]


# reference_app's lifespan opens (and closes) the pool both references use.
app = FastAPI(lifespan=reference_app.lifespan)


@app.get("/users/{user_id}", response_model=UserPublic)
async def get_user(user_id: Id, caller: CurrentCaller) -> Any:
    row = await caller.connection.fetchrow(USER_BY_ID, user_id)
    if row is None:
        raise HTTPException(404, "User not found")
    return dict(row)


@app.get("/users/{user_id}/items", response_model=ItemPage)
async def list_user_items(
    request: Request, user_id: Id, caller: CurrentCaller, limit: Limit = 20, cursor: Cursor = None
) -> Any:
    limit, after_id = _page(request, limit, cursor)
    if await caller.connection.fetchrow(USER_BY_ID, user_id) is None:
        raise HTTPException(404, "User not found")
    rows = await caller.connection.fetch(ITEMS_OF_OWNER_AFTER, user_id, after_id, limit + 1)
    return _item_page(rows, limit, request.url.path)


@app.post("/users/{user_id}/items", response_model=ItemOut, status_code=201)
async def add_item(user_id: Id, body: ItemCreate, caller: CurrentCaller, response: Response) -> Any:
    if caller.row["id"] != user_id:
        raise HTTPException(403, "Not the owner")
    created_at = datetime.now(UTC)
    async with caller.connection.transaction():
        if await caller.connection.fetchrow(USER_BY_ID, user_id) is None:
            raise HTTPException(404, "User not found")
        item_id = await caller.connection.fetchval(
            INSERT_ITEM, body.title, body.description, user_id, created_at
        )
    response.headers["Location"] = f"/items/{item_id}"
    return {
        "id": item_id,
        "title": body.title,
        "description": body.description,
        "owner_id": user_id,
        "created_at": created_at,
    }


@app.get("/items", response_model=ItemPage)
async def list_items(
    request: Request, caller: CurrentCaller, limit: Limit = 20, cursor: Cursor = None
) -> Any:
    limit, after_id = _page(request, limit, cursor)
    rows = await caller.connection.fetch(ITEMS_AFTER, after_id, limit + 1)
    return _item_page(rows, limit, request.url.path)


@app.get("/items/{item_id}", response_model=ItemOut)
async def get_item(item_id: Id, caller: CurrentCaller) -> Any:
    row = await caller.connection.fetchrow(ITEM_BY_ID, item_id)
    if row is None:
        raise HTTPException(404, "Item not found")
    return dict(row)
