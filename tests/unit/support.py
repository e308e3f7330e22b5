"""Builders for the use-case tests: store users and items, and read back what is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from limits.aio.storage import Storage

from adapters.jwt_tokens import JwtMfaChallenges, JwtTokenService
from adapters.limits_throttle import LimitsThrottle, Rate, storage_for
from adapters.memory import (
    InMemoryDatabase,
    InMemoryItemQueries,
    InMemoryUnitOfWork,
    InMemoryUserQueries,
)
from application.clock import Clock, utc_now
from application.login_attempts import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_AND_ADDRESS,
    LOGIN_PER_ADDRESS,
)
from application.pagination import MAX_PAGE_SIZE, HasId, PageRequest
from application.ports import AccessClaims, ItemRepository, UserRepository
from application.throttles import (
    PASSWORD_RESET_PER_CLIENT,
    PASSWORD_RESET_PER_EMAIL,
    VERIFICATION_EMAIL_PER_USER,
)
from application.token_pairs import TokenPairIssuer
from domain.item import Item, NewItem
from domain.user import NewUser, User
from tests.conftest import TEST_JWT_SECRET

ISSUER = "users-items-test"
AUDIENCE = "users-items-test-clients"
TTL_SECONDS = 900
REFRESH_TTL_SECONDS = 3600
MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
MAX_FAILURES_PER_ADDRESS = 8
MAX_FAILURES_PER_ACCOUNT = 12
PLACEHOLDER_HASH = "not-a-real-hash"  # for users who never log in


def make_tokens(secret: str = TEST_JWT_SECRET) -> JwtTokenService:
    return JwtTokenService(secret=secret, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=TTL_SECONDS)


def make_challenges(secret: str = TEST_JWT_SECRET) -> JwtMfaChallenges:
    return JwtMfaChallenges(secret=secret, issuer=ISSUER, audience=AUDIENCE)


def claims_for(user_id: int, credentials_version: int = 0) -> AccessClaims:
    """Claims of a login that happened just now."""
    return AccessClaims(
        user_id=user_id,
        credentials_version=credentials_version,
        auth_time=datetime.now(UTC),
        session_id="s" * 32,
    )


def make_issuer(tokens: JwtTokenService, clock: Clock = utc_now) -> TokenPairIssuer:
    return TokenPairIssuer(tokens, refresh_ttl_seconds=REFRESH_TTL_SECONDS, clock=clock)


def make_throttle(storage: Storage | None = None) -> LimitsThrottle:
    """The real ``limits`` throttle with the login and account-email limits (the contract's
    defaults for the latter), over the memory storage the service uses without Redis unless
    told otherwise (the library's own fails its expiry task when a count is released, and the
    log showed it after the unit tests)."""
    return LimitsThrottle(
        storage=storage or storage_for(None),
        key_prefix=f"test-{uuid.uuid4().hex}",
        rates={
            LOGIN_PER_ACCOUNT_AND_ADDRESS.name: Rate(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS, 900),
            LOGIN_PER_ADDRESS.name: Rate(MAX_FAILURES_PER_ADDRESS, 60),
            LOGIN_PER_ACCOUNT.name: Rate(MAX_FAILURES_PER_ACCOUNT, 900),
            PASSWORD_RESET_PER_EMAIL.name: Rate(5, 3600),
            PASSWORD_RESET_PER_CLIENT.name: Rate(30, 900),
            VERIFICATION_EMAIL_PER_USER.name: Rate(5, 3600),
        },
    )


async def add_user(
    db: InMemoryDatabase,
    username: str = "ada",
    *,
    hashed_password: str = PLACEHOLDER_HASH,
    is_active: bool = True,
) -> User:
    async with InMemoryUnitOfWork(db) as uow:
        user = await uow.repository(UserRepository).add(
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
        item = await uow.repository(ItemRepository).add(
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
        return await uow.repository(ItemRepository).get(item_id)


async def stored_user(db: InMemoryDatabase, user_id: int) -> User | None:
    async with InMemoryUnitOfWork(db) as uow:
        return await uow.repository(UserRepository).get(user_id)


def ids(rows: Iterable[HasId]) -> list[int]:
    return [row.id for row in rows]


async def all_users(db: InMemoryDatabase) -> list[User]:
    return list(await InMemoryUserQueries(db).page(PageRequest(limit=MAX_PAGE_SIZE)))


async def all_items(db: InMemoryDatabase) -> list[Item]:
    return list(await InMemoryItemQueries(db).page(PageRequest(limit=MAX_PAGE_SIZE)))
