"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

Every case carries a valid access token. Some operations under test end the very credentials
the run uses: ``DELETE /users/me/sessions`` and a password change end the caller's sessions,
``DELETE /users/me`` the account. A fixed token would then make every later case a 401 and
test nothing behind the authentication; instead, a 401 makes the next case log in again, and
when the login fails too (the password or the account is gone) a new account is signed up.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import httpx
import schemathesis
from schemathesis import AuthContext, Case

from tests.api.helpers import PASSWORD

TARGET_ENV = "USERS_ITEMS_TARGET"  # the base URL of the service under test
# The run's own logins come "from" another client than the cases (through the proxy header the
# service trusts from 127.0.0.1): the fuzzed wrong logins of POST /auth/token spend the throttle
# of the address they come from, and must not lock the runner out.
RUNNER_ADDRESS = {"X-Forwarded-For": "203.0.113.7"}


@schemathesis.auth(retry_on=[401])
class FreshLogin:
    def __init__(self) -> None:
        self._accounts = (f"runner{n}" for n in itertools.count())
        self._username = next(self._accounts)

    def get(self, case: Case[Any], context: AuthContext) -> str:
        base_url = os.environ[TARGET_ENV]
        with httpx.Client(base_url=base_url, headers=RUNNER_ADDRESS, timeout=10) as client:
            token = self._login(client)
            if token is None:
                self._username = next(self._accounts)
                signup = {
                    "email": f"{self._username}@example.com",
                    "username": self._username,
                    "password": PASSWORD,
                }
                client.post("/users", json=signup).raise_for_status()
                token = self._login(client)
        if token is None:
            raise RuntimeError(f"{self._username} signed up but cannot log in")
        return token

    def _login(self, client: httpx.Client) -> str | None:
        answer = client.post("/auth/token", data={"username": self._username, "password": PASSWORD})
        return str(answer.json()["access_token"]) if answer.status_code == 200 else None

    def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"
