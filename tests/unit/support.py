"""Builders for the use-case tests: store users and items, and read back what is stored."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from adapters.jwt_tokens import JwtTokenService
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.pagination import MAX_PAGE_SIZE, HasId, PageRequest
from domain.item import Item, NewItem
from domain.user import NewUser, User
from tests.conftest import TEST_JWT_SECRET

ISSUER = "users-items-test"
AUDIENCE = "users-items-test-clients"
TTL_SECONDS = 900
PLACEHOLDER_HASH = "not-a-real-hash"  # for users who never log in


def make_tokens(secret: str = TEST_JWT_SECRET) -> JwtTokenService:
    return JwtTokenService(secret=secret, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=TTL_SECONDS)


async def add_user(
    db: InMemoryDatabase,
    username: str = "ada",
    *,
    hashed_password: str = PLACEHOLDER_HASH,
    is_active: bool = True,
) -> User:
    async with InMemoryUnitOfWork(db) as uow:
        user = await uow.users.add(
            NewUser(
                email=f"{username}@example.com",
                username=username,
                hashed_password=hashed_password,
                created_at=datetime.now(UTC),
                is_active=is_active,
            )
        )
        await uow.commit()
    return user


async def add_item(
    db: InMemoryDatabase, owner_id: int, title: str = "Bike", description: str | None = None
) -> Item:
    async with InMemoryUnitOfWork(db) as uow:
        item = await uow.items.add(
            NewItem(
                title=title,
                description=description,
                owner_id=owner_id,
                created_at=datetime.now(UTC),
            )
        )
        await uow.commit()
    return item


async def stored_item(db: InMemoryDatabase, item_id: int) -> Item | None:
    async with InMemoryUnitOfWork(db) as uow:
        return await uow.items.get(item_id)


async def stored_user(db: InMemoryDatabase, user_id: int) -> User | None:
    async with InMemoryUnitOfWork(db) as uow:
        return await uow.users.get(user_id)


def ids(rows: Iterable[HasId]) -> list[int]:
    return [row.id for row in rows]


async def all_users(db: InMemoryDatabase) -> list[User]:
    async with InMemoryUnitOfWork(db) as uow:
        return list(await uow.users.list(PageRequest(limit=MAX_PAGE_SIZE)))


async def all_items(db: InMemoryDatabase) -> list[Item]:
    async with InMemoryUnitOfWork(db) as uow:
        return list(await uow.items.list(PageRequest(limit=MAX_PAGE_SIZE)))
