from __future__ import annotations

import pytest

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.jwt_tokens import JwtTokenService
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
from application.errors import InvalidCredentials
from domain.user import User
from tests.unit.support import (
    TTL_SECONDS,
    add_user,
    make_challenges,
    make_issuer,
    make_throttle,
)

PASSWORD = "correct horse"


@pytest.fixture
def authenticate(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, tokens: JwtTokenService
) -> AuthenticateUser:
    return AuthenticateUser(
        InMemoryUnitOfWork(db), hasher, make_issuer(tokens), make_throttle(), make_challenges()
    )


async def ada(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, *, is_active: bool = True
) -> User:
    hashed = await hasher.hash(PASSWORD)
    return await add_user(db, "ada", hashed_password=hashed, is_active=is_active)


@pytest.mark.parametrize("login", ["ada", "ADA", "ada@example.com", "Ada@Example.COM"])
async def test_a_username_or_email_and_the_right_password_get_a_token_for_that_user(
    db: InMemoryDatabase,
    hasher: Argon2PasswordHasher,
    tokens: JwtTokenService,
    authenticate: AuthenticateUser,
    login: str,
) -> None:
    user = await ada(db, hasher)

    token = await authenticate.execute(AuthenticateUserCommand(login=login, password=PASSWORD))

    assert tokens.verify(token.access_token).user_id == user.id
    assert token.expires_in == TTL_SECONDS


@pytest.mark.parametrize("login", ["grace", "grace@example.com"])
async def test_an_unknown_user_is_refused(
    db: InMemoryDatabase,
    hasher: Argon2PasswordHasher,
    authenticate: AuthenticateUser,
    login: str,
) -> None:
    await ada(db, hasher)

    with pytest.raises(InvalidCredentials):
        await authenticate.execute(AuthenticateUserCommand(login=login, password=PASSWORD))


async def test_a_wrong_password_is_refused(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await ada(db, hasher)

    with pytest.raises(InvalidCredentials):
        await authenticate.execute(AuthenticateUserCommand(login="ada", password="wrong horse"))


async def test_an_inactive_user_is_refused_even_with_the_right_password(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, authenticate: AuthenticateUser
) -> None:
    await ada(db, hasher, is_active=False)

    with pytest.raises(InvalidCredentials):
        await authenticate.execute(AuthenticateUserCommand(login="ada", password=PASSWORD))
