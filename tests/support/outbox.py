"""Seeding a real database's outbox for the worker and CLI tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.sqlalchemy.database import SqlAlchemyDatabase
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.create_user import CreateUserCommand
from application.ports import NewOutboxMessage, Outbox
from tests.conftest import cheap_hasher
from tests.support.accounts import create_user as build_create_user


async def sign_up_users(url: str, count: int) -> None:
    """Users user0..user<count-1> through CreateUser: each leaves a pending welcome message."""
    engine = create_engine(url)
    hasher = cheap_hasher()
    try:
        create_user = build_create_user(SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)), hasher)
        for n in range(count):
            await create_user.execute(
                CreateUserCommand(f"user{n}@example.com", f"user{n}", "correct horse")
            )
    finally:
        hasher.close()
        await engine.dispose()


async def delivered_message(url: str, days_ago: float) -> int:
    """One more message, delivered ``days_ago`` days ago; its id."""
    engine = create_engine(url)
    then = datetime.now(UTC) - timedelta(days=days_ago)
    try:
        async with SqlAlchemyUnitOfWork(SqlAlchemyDatabase(engine)) as uow:
            await uow.repository(Outbox).add(
                NewOutboxMessage(str(uuid.uuid4()), "UserRegistered", {}, then)
            )
            [message] = await uow.repository(Outbox).claim(then, then, 1)
            await uow.repository(Outbox).mark_delivered(message.id, then)
            await uow.commit()
            return message.id
    finally:
        await engine.dispose()
