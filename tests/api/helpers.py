"""Small HTTP helpers for the API tests: sign up, log in, auth headers, problems, direct SQL."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from sqlalchemy import text

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.conftest import TEST_JWT_SECRET

PASSWORD = "correct horse battery"
JWT_ISSUER = JWT_AUDIENCE = "users-items"
MIB_PLUS_ONE = 1024 * 1024 + 1
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
USER_PUBLIC_FIELDS = {"id", "username", "is_active", "created_at"}
USER_PRIVATE_FIELDS = USER_PUBLIC_FIELDS | {"email", "email_verified", "is_admin", "mfa_enabled"}
ITEM_FIELDS = {"id", "title", "description", "owner_id", "created_at"}


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_up(
    client: httpx.AsyncClient, username: str, email: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    body = {"email": email or f"{username}@example.com", "username": username, "password": password}
    response = await client.post("/users", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def log_in(client: httpx.AsyncClient, login: str, password: str = PASSWORD) -> str:
    response = await client.post("/auth/token", data={"username": login, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def account(client: httpx.AsyncClient, username: str) -> Account:
    """A signed-up, logged-in user."""
    user = await sign_up(client, username)
    return Account(
        id=user["id"],
        username=username,
        email=user["email"],
        token=await log_in(client, username),
    )


async def add_item(
    client: httpx.AsyncClient, owner: Account, title: str = "Bike", **fields: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/users/{owner.id}/items", json={"title": title, **fields}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    item: dict[str, Any] = response.json()
    return item


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "type" in body
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer")
    return body


def error_fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body["errors"]}


def make_token(
    subject: int | str,
    *,
    secret: str = TEST_JWT_SECRET,
    lifetime: int = 900,
    algorithm: str = "HS256",
    **claims: Any,
) -> str:
    """A JWT shaped like the service's own; override a claim to forge a bad one (None drops it)."""
    now = int(time.time())
    payload = {
        "sub": str(subject),
        "iat": now,
        "exp": now + lifetime,
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "auth_time": now,
        "ver": 0,
        "sid": "s" * 32,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


@asynccontextmanager
async def app_client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """A client over a fresh app around ``container`` (override its providers first)."""
    transport = httpx.ASGITransport(app=create_app(container), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def count_rows(container: Container, table: str) -> int:
    assert table in {"users", "items"}
    async with container.engine().connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def set_active(container: Container, user_id: int, active: bool) -> None:
    async with container.engine().begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_active = :active WHERE id = :id"),
            {"active": active, "id": user_id},
        )
