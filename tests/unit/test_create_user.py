from __future__ import annotations

import uuid

import pytest

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.create_user import CreateUser, CreateUserCommand
from application.errors import UserAlreadyExists
from tests.unit.support import all_users, stored_user


def create_user(db: InMemoryDatabase, hasher: Argon2PasswordHasher) -> CreateUser:
    return CreateUser(InMemoryUnitOfWork(db), hasher)


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
    assert message.payload == {"user_id": user.id, "email": user.email, "username": "ada"}
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
