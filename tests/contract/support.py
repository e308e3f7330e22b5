"""Builders for the contract tests: new users and items, stored in committed transactions."""

from __future__ import annotations

from datetime import UTC, datetime

from application.pagination import MAX_PAGE_SIZE, PageRequest
from application.ports import ItemRepository, UserRepository
from domain.item import Item, NewItem
from domain.user import NewUser, User
from tests.conftest import Store, UowFactory

PLACEHOLDER_HASH = "$argon2id$placeholder"


def new_user(username: str, email: str | None = None, *, is_active: bool = True) -> NewUser:
    return NewUser(
        email=email or f"{username}@example.com",
        username=username,
        hashed_password=PLACEHOLDER_HASH,
        created_at=datetime.now(UTC),
        is_active=is_active,
    )


def new_item(owner_id: int, title: str = "Bike", description: str | None = "red") -> NewItem:
    return NewItem(
        title=title, description=description, owner_id=owner_id, created_at=datetime.now(UTC)
    )


async def add_user(uow_factory: UowFactory, username: str = "ada") -> User:
    async with uow_factory() as uow:
        user = await uow.repository(UserRepository).add(new_user(username))
        await uow.commit()
    return user


async def add_item(uow_factory: UowFactory, owner_id: int, title: str = "Bike") -> Item:
    async with uow_factory() as uow:
        item = await uow.repository(ItemRepository).add(new_item(owner_id, title))
        await uow.commit()
    return item


async def all_users(store: Store) -> list[User]:
    return list(await store.users.page(PageRequest(limit=MAX_PAGE_SIZE)))


async def all_items(store: Store) -> list[Item]:
    return list(await store.items.page(PageRequest(limit=MAX_PAGE_SIZE)))
