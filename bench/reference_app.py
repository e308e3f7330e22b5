"""The benchmark's yardstick: the service's hot endpoints as bare Starlette + asyncpg + orjson.

Same SQL, same HS256 token check (PyJWT, the same required claims, issuer and audience), the
same caller-is-active look-up, the same HMAC-signed keyset cursors bound to the path, the same
JSON. No ORM, no DI, no pydantic, no middleware: what the work costs without the layers.

Run by bench/run.py: ``uvicorn reference_app:app --app-dir bench``; configured by
REFERENCE_DATABASE_URL, REFERENCE_JWT_SECRET and REFERENCE_POOL_SIZE.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECRET = os.environ.get("REFERENCE_JWT_SECRET", "dev-only-insecure-secret-change-me")
ISSUER = AUDIENCE = "users-items"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud", "auth_time", "ver", "sid"]
CURSOR_KEY = hashlib.sha256(b"users-items cursor key\x00" + SECRET.encode()).digest()
ID = struct.Struct(">Q")
MAX_LIMIT = 100

USER_BY_ID = (
    "SELECT id, email, username, hashed_password, is_active, created_at, email_verified, "
    "is_admin, credentials_version FROM users WHERE id = $1"
)
ITEM_COLUMNS = "id, title, description, owner_id, created_at"
ITEM_BY_ID = f"SELECT {ITEM_COLUMNS} FROM items WHERE id = $1"  # noqa: S608 - constant
ITEMS_AFTER = f"SELECT {ITEM_COLUMNS} FROM items WHERE id > $1 ORDER BY id LIMIT $2"  # noqa: S608
ITEMS_OF_OWNER_AFTER = (
    f"SELECT {ITEM_COLUMNS} FROM items WHERE owner_id = $1 AND id > $2 "  # noqa: S608 - constant
    "ORDER BY id LIMIT $3"
)
INSERT_ITEM = (
    "INSERT INTO items (title, description, owner_id, created_at) VALUES ($1, $2, $3, $4) "
    "RETURNING id"
)

pool: asyncpg.Pool


class Problem(Exception):
    def __init__(self, status: int, title: str) -> None:
        self.status = status
        self.title = title


def json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def problem(error: Problem) -> Response:
    body = {"type": "about:blank", "title": error.title, "status": error.status}
    return Response(orjson.dumps(body), error.status, media_type="application/problem+json")


def caller_claims(request: Request) -> tuple[int, object]:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Not authenticated")
    try:
        claims = jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=10,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError:
        raise Problem(401, "Not authenticated") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isdigit() or len(subject) > 18:
        raise Problem(401, "Not authenticated")
    return int(subject), claims["ver"]


async def active_caller(connection: asyncpg.Connection, request: Request) -> asyncpg.Record:
    user_id, version = caller_claims(request)
    row = await connection.fetchrow(USER_BY_ID, user_id)
    if row is None or not row["is_active"] or row["credentials_version"] != version:
        raise Problem(401, "Not authenticated")
    return row


def path_id(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or not 1 <= int(raw) < 2**63:
        raise Problem(422, "Invalid path parameter")
    return int(raw)


def cursor_mac(packed: bytes, scope: str) -> bytes:
    return hmac.new(CURSOR_KEY, packed + scope.encode(), hashlib.sha256).digest()[:16]


def encode_cursor(after_id: int, scope: str) -> str:
    packed = ID.pack(after_id)
    return base64.urlsafe_b64encode(packed + cursor_mac(packed, scope)).decode().rstrip("=")


def page_request(request: Request) -> tuple[int, int]:
    """(limit, after_id) from the query, verifying the cursor's MAC against the path."""
    try:
        limit = int(request.query_params.get("limit", "20"))
    except ValueError:
        raise Problem(422, "Invalid limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise Problem(422, "Invalid limit")
    cursor = request.query_params.get("cursor")
    if cursor is None:
        return limit, 0
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise Problem(422, "Invalid cursor") from None
    packed, mac = raw[:8], raw[8:]
    if len(raw) != 24 or not hmac.compare_digest(mac, cursor_mac(packed, request.url.path)):
        raise Problem(422, "Invalid cursor")
    return limit, ID.unpack(packed)[0]


def user_public(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "is_active": row["is_active"],
        "created_at": row["created_at"],
    }


def item_out(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "owner_id": row["owner_id"],
        "created_at": row["created_at"],
    }


def item_page(rows: list[asyncpg.Record], limit: int, scope: str) -> Response:
    next_cursor = encode_cursor(rows[limit - 1]["id"], scope) if len(rows) > limit else None
    return json({"items": [item_out(row) for row in rows[:limit]], "next_cursor": next_cursor})


async def get_user(request: Request) -> Response:
    try:
        user_id = path_id(request, "user_id")
        async with pool.acquire() as connection:
            await active_caller(connection, request)
            row = await connection.fetchrow(USER_BY_ID, user_id)
        if row is None:
            raise Problem(404, "User not found")
        return json(user_public(row))
    except Problem as error:
        return problem(error)


async def list_user_items(request: Request) -> Response:
    try:
        user_id = path_id(request, "user_id")
        limit, after_id = page_request(request)
        async with pool.acquire() as connection:
            await active_caller(connection, request)
            if await connection.fetchrow(USER_BY_ID, user_id) is None:
                raise Problem(404, "User not found")
            rows = await connection.fetch(ITEMS_OF_OWNER_AFTER, user_id, after_id, limit + 1)
        return item_page(rows, limit, request.url.path)
    except Problem as error:
        return problem(error)


async def add_item(request: Request) -> Response:
    try:
        user_id = path_id(request, "user_id")
        try:
            body = orjson.loads(await request.body())
            title, description = body["title"], body.get("description")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise Problem(422, "Invalid body") from None
        if not isinstance(title, str) or not 1 <= len(title) <= 200 or not title.strip():
            raise Problem(422, "Invalid title")
        if description is not None and (
            not isinstance(description, str) or len(description) > 2000
        ):
            raise Problem(422, "Invalid description")
        async with pool.acquire() as connection:
            caller = await active_caller(connection, request)
            if caller["id"] != user_id:
                raise Problem(403, "Not the owner")
            created_at = datetime.now(UTC)
            async with connection.transaction():
                if await connection.fetchrow(USER_BY_ID, user_id) is None:
                    raise Problem(404, "User not found")
                item_id = await connection.fetchval(
                    INSERT_ITEM, title, description, user_id, created_at
                )
        item = {
            "id": item_id,
            "title": title,
            "description": description,
            "owner_id": user_id,
            "created_at": created_at,
        }
        return json(item_out(item), 201, {"Location": f"/items/{item_id}"})
    except Problem as error:
        return problem(error)


async def list_items(request: Request) -> Response:
    try:
        limit, after_id = page_request(request)
        async with pool.acquire() as connection:
            await active_caller(connection, request)
            rows = await connection.fetch(ITEMS_AFTER, after_id, limit + 1)
        return item_page(rows, limit, request.url.path)
    except Problem as error:
        return problem(error)


async def get_item(request: Request) -> Response:
    try:
        item_id = path_id(request, "item_id")
        async with pool.acquire() as connection:
            await active_caller(connection, request)
            row = await connection.fetchrow(ITEM_BY_ID, item_id)
        if row is None:
            raise Problem(404, "Item not found")
        return json(item_out(row))
    except Problem as error:
        return problem(error)


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    global pool
    size = int(os.environ.get("REFERENCE_POOL_SIZE", "20"))
    pool = await asyncpg.create_pool(
        os.environ["REFERENCE_DATABASE_URL"], min_size=size, max_size=size
    )
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/users/{user_id}", get_user),
        Route("/users/{user_id}/items", list_user_items),
        Route("/users/{user_id}/items", add_item, methods=["POST"]),
        Route("/items", list_items),
        Route("/items/{item_id}", get_item),
    ],
    lifespan=lifespan,
)
