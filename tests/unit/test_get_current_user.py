from __future__ import annotations

import pytest

from adapters.jwt_tokens import JwtTokenService
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork, InMemoryUserQueries
from application.errors import NotAuthenticated
from application.get_current_user import GetCurrentUser
from application.ports import UserRepository
from tests.unit.support import add_user, claims_for, make_tokens


def get_current_user(db: InMemoryDatabase, tokens: JwtTokenService) -> GetCurrentUser:
    return GetCurrentUser(InMemoryUserQueries(db), tokens)


async def test_a_valid_token_gives_its_active_user(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    await add_user(db, "ada")
    grace = await add_user(db, "grace")

    caller = await get_current_user(db, tokens).execute(tokens.issue(claims_for(grace.id)).token)

    assert caller.user == grace
    assert caller.claims.user_id == grace.id


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
async def test_a_malformed_token_is_not_authenticated(
    db: InMemoryDatabase, tokens: JwtTokenService, token: str
) -> None:
    await add_user(db, "ada")

    with pytest.raises(NotAuthenticated):
        await get_current_user(db, tokens).execute(token)


async def test_a_token_signed_with_another_secret_is_not_authenticated(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    ada = await add_user(db, "ada")
    forged = make_tokens(secret="another-secret-that-is-32-bytes-or-longer").issue(
        claims_for(ada.id)
    )

    with pytest.raises(NotAuthenticated):
        await get_current_user(db, tokens).execute(forged.token)


async def test_a_token_for_a_user_that_does_not_exist_is_not_authenticated(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    ada = await add_user(db, "ada")

    with pytest.raises(NotAuthenticated):
        await get_current_user(db, tokens).execute(tokens.issue(claims_for(ada.id + 1)).token)


async def test_a_token_for_an_inactive_user_is_not_authenticated(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    ada = await add_user(db, "ada", is_active=False)

    with pytest.raises(NotAuthenticated):
        await get_current_user(db, tokens).execute(tokens.issue(claims_for(ada.id)).token)


async def test_a_token_of_an_older_credentials_version_is_not_authenticated(
    db: InMemoryDatabase, tokens: JwtTokenService
) -> None:
    ada = await add_user(db, "ada")
    before = tokens.issue(claims_for(ada.id, credentials_version=0)).token
    async with InMemoryUnitOfWork(db) as uow:
        await uow.repository(UserRepository).revoke_credentials(ada.id)
        await uow.commit()
    after = tokens.issue(claims_for(ada.id, credentials_version=1)).token

    with pytest.raises(NotAuthenticated):
        await get_current_user(db, tokens).execute(before)
    assert (await get_current_user(db, tokens).execute(after)).user.credentials_version == 1
