"""Which driver errors mean "the database is not there" (a 503) rather than a bug (a 500)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from adapters.sqlalchemy.unit_of_work import _is_unavailable


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
def test_a_server_going_away_or_not_back_yet_is_unavailable(sqlstate: str) -> None:
    assert _is_unavailable(dbapi_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "42P01", None])
def test_other_driver_errors_are_not(sqlstate: str | None) -> None:
    assert not _is_unavailable(dbapi_error(sqlstate))
