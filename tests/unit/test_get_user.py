from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUserQueries
from application.errors import UserNotFound
from application.get_user import GetUser
from tests.unit.support import add_user


async def test_returns_the_stored_user(db: InMemoryDatabase) -> None:
    await add_user(db, "ada")
    grace = await add_user(db, "grace")

    assert await GetUser(InMemoryUserQueries(db)).execute(grace.id) == grace


async def test_an_unknown_id_raises_user_not_found(db: InMemoryDatabase) -> None:
    await add_user(db, "ada")

    with pytest.raises(UserNotFound) as raised:
        await GetUser(InMemoryUserQueries(db)).execute(999)

    assert raised.value.user_id == 999
