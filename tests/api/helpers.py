"""Small HTTP helpers for the API tests: sign up, log in, build auth headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"  # noqa: S105


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_up(
    client: httpx.AsyncClient, username: str, email: str | None = None, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/users",
        json={"email": email or f"{username}@example.com", "username": username, "password": password},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


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


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "type" in body
    return body
