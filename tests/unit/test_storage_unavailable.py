"""Which driver errors mean "the database is not there" (a 503) rather than a bug (a 500)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.database import is_unavailable


class DriverError(Exception):
    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def dbapi_error(sqlstate: str | None) -> DBAPIError:
    return DBAPIError("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(
    "sqlstate",
    [
        pytest.param("57P01", id="admin shutdown"),
        pytest.param("57P03", id="starting up or shutting down"),
        pytest.param("08006", id="connection failure"),
        pytest.param("53300", id="too many connections"),
    ],
)
def test_a_server_going_away_or_not_back_yetis_unavailable(sqlstate: str) -> None:
    assert is_unavailable(dbapi_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", None])
def test_other_driver_errors_are_not(sqlstate: str | None) -> None:
    assert not is_unavailable(dbapi_error(sqlstate))


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
            id="starting up, raised by a raw pool checkout",
        ),
        pytest.param(
            asyncpg.exceptions.InternalClientError("cannot switch to state 12"),
            id="a pooled connection broken by the server's shutdown notice",
        ),
        pytest.param(ConnectionRefusedError(111, "refused"), id="refused"),
    ],
)
def test_unwrapped_driver_errors_are_recognised_too(error: Exception) -> None:
    assert is_unavailable(error)


def test_the_cause_of_an_error_counts() -> None:
    wrapped = RuntimeError("checkout failed")
    wrapped.__cause__ = DriverError("57P01")
    assert is_unavailable(wrapped)


def test_an_application_bug_is_not_unavailable() -> None:
    assert not is_unavailable(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert not is_unavailable(KeyError("user_id"))
