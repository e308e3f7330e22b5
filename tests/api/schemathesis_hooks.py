"""Schemathesis hooks for tests/api/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

Every case carries a valid access token. Some operations under test end the very credentials
the run uses: ``DELETE /users/me/sessions`` and a password change end the caller's sessions,
``DELETE /users/me`` the account. A fixed token would then make every later case a 401 and
test nothing behind the authentication; instead, a 401 makes the next case log in again, and
when the login fails too (the password or the account is gone) a new account is signed up.

Schemathesis stamps the token on the cases of an operation's coverage phase when it generates
them, so after an account is gone every such case is a 401 and asks for a token again (and
its replay, with the new token, succeeds). The hook hands out its last token while that one
still works (one ``GET /users/me``), and logs in only when it does not: each login spends a unit
of the runner address's login limit (50 a minute), which a long run of such cases would spend.
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


# Not for /auth/*: those operations take no access token, and most of their fuzzed cases are
# 401 by design (an unknown refresh token or mfa_token); a 401 there must not make the next
# case log in again (each login spends a unit of the runner address's login limit).
@schemathesis.auth(retry_on=[401]).skip_for(path_regex=r"^/auth/")
class FreshLogin:
    def __init__(self) -> None:
        self._accounts = (f"runner{n}" for n in itertools.count())
        self._username = next(self._accounts)
        self._token: str | None = None

    def get(self, case: Case[Any], context: AuthContext) -> str:
        base_url = os.environ[TARGET_ENV]
        with httpx.Client(base_url=base_url, headers=RUNNER_ADDRESS, timeout=10) as client:
            if self._token is not None and self._works(client, self._token):
                return self._token
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
        self._token = token
        return token

    @staticmethod
    def _works(client: httpx.Client, token: str) -> bool:
        answer = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code == 200

    def _login(self, client: httpx.Client) -> str | None:
        answer = client.post("/auth/token", data={"username": self._username, "password": PASSWORD})
        return str(answer.json()["access_token"]) if answer.status_code == 200 else None

    def set(self, case: Case[Any], data: str, context: AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {data}"
