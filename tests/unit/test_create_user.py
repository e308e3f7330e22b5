from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.create_user import CreateUser, CreateUserCommand
from application.errors import PasswordRejected, UserAlreadyExists
from application.token_pairs import hash_token
from tests.support.accounts import create_user as build_create_user
from tests.unit.support import all_users, stored_user


def create_user(db: InMemoryDatabase, hasher: Argon2PasswordHasher) -> CreateUser:
    return build_create_user(InMemoryUnitOfWork(db), hasher)


ADA = CreateUserCommand(email="ada@example.com", username="ada", password="correct horse")


async def test_creates_an_active_user_that_is_stored(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    user = await create_user(db, hasher).execute(ADA)

    assert (user.email, user.username, user.is_active) == ("ada@example.com", "ada", True)
    assert user.created_at.tzinfo is not None
    assert await stored_user(db, user.id) == user
    assert db.commits == 1


async def test_stores_an_argon2id_hash_not_the_password(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    user = await create_user(db, hasher).execute(ADA)

    stored = await stored_user(db, user.id)
    assert stored is not None
    assert ADA.password not in stored.hashed_password
    assert stored.hashed_password.startswith("$argon2id$")
    assert await hasher.verify(stored.hashed_password, ADA.password)


@pytest.mark.parametrize(
    ("email", "username", "fields"),
    [
        pytest.param("ADA@Example.COM", "grace", ("email",), id="email"),
        pytest.param("grace@example.com", "ADA", ("username",), id="username"),
        pytest.param("Ada@example.com", "aDa", ("email", "username"), id="both"),
    ],
)
async def test_refuses_taken_fields_case_insensitively_and_names_them(
    db: InMemoryDatabase,
    hasher: Argon2PasswordHasher,
    email: str,
    username: str,
    fields: tuple[str, ...],
) -> None:
    ada = await create_user(db, hasher).execute(ADA)
    command = CreateUserCommand(email=email, username=username, password="another password")

    with pytest.raises(UserAlreadyExists) as raised:
        await create_user(db, hasher).execute(command)

    assert raised.value.fields == fields
    assert db.commits == 1
    assert await all_users(db) == [ada]


async def test_records_a_user_registered_event_in_the_same_transaction(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    user = await create_user(db, hasher).execute(ADA)

    [message] = db.state.outbox.values()
    assert message.event_type == "UserRegistered"
    token = message.payload["token"]
    assert message.payload == {
        "user_id": user.id,
        "email": user.email,
        "username": "ada",
        "token": token,
    }
    # The first verification link's token: only its hash is stored, for this user.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    [(token_hash, stored)] = db.state.table("account_tokens").items()
    assert token_hash == hash_token(token) != token
    assert (stored.user_id, stored.kind, stored.used_at) == (user.id, "verification", None)
    assert stored.expires_at - stored.created_at == timedelta(hours=48)
    assert str(uuid.UUID(message.event_id)) == message.event_id
    assert db.commits == 1


async def test_a_refused_signup_records_no_event(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    await create_user(db, hasher).execute(ADA)

    with pytest.raises(UserAlreadyExists):
        await create_user(db, hasher).execute(ADA)

    assert len(db.state.outbox) == 1


async def test_each_signup_gets_its_own_event_id(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    await create_user(db, hasher).execute(ADA)
    grace = CreateUserCommand(email="grace@example.com", username="grace", password="x" * 12)
    await create_user(db, hasher).execute(grace)

    assert len({m.event_id for m in db.state.outbox.values()}) == 2


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        pytest.param("short", "at least 8 characters", id="too-short"),
        pytest.param("x" * 129, "at most 128 characters", id="too-long"),
        pytest.param("Password1", "most common passwords", id="common-any-case"),
        pytest.param("iloveyou", "most common passwords", id="common"),
        pytest.param("my ADA secret", "must not contain the username", id="username"),
        pytest.param("lovelace-123!", "email address", id="email-local-part"),
    ],
)
async def test_a_password_the_policy_refuses_creates_nothing_and_says_why(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, password: str, reason: str
) -> None:
    command = CreateUserCommand(email="Lovelace@example.com", username="ada", password=password)

    with pytest.raises(PasswordRejected) as raised:
        await create_user(db, hasher).execute(command)

    assert raised.value.field == "password"
    assert reason in raised.value.reason
    assert db.commits == 0
    assert db.state.outbox == {}


async def test_an_admin_is_created_when_asked(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher
) -> None:
    command = CreateUserCommand(
        email="root@example.com", username="root", password="correct horse", is_admin=True
    )

    user = await create_user(db, hasher).execute(command)

    assert (user.is_admin, user.email_verified) == (True, False)
    assert await stored_user(db, user.id) == user
