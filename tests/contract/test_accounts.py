"""The account parts of the write side and the session queries, on memory, SQLite and
PostgreSQL: account tokens, profile changes, credentials versions, admins, deletion, sessions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import InMemorySessionQueries
from adapters.sqlalchemy.queries import SqlAlchemySessionQueries
from application.errors import UserAlreadyExists
from application.pagination import PageRequest
from application.ports import (
    NewRefreshToken,
    RefreshTokenRepository,
    SessionQueries,
    UserRepository,
)
from application.ports.account_tokens import (
    AccountTokenKind,
    AccountTokenRepository,
    NewAccountToken,
)
from tests.conftest import Store, UowFactory
from tests.contract.support import add_item, add_user, all_items, all_users

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VERIFICATION = AccountTokenKind.VERIFICATION
RESET = AccountTokenKind.RESET


def account_token(
    token_hash: str,
    user_id: int,
    kind: AccountTokenKind = RESET,
    ttl: timedelta = timedelta(hours=1),
) -> NewAccountToken:
    return NewAccountToken(
        kind=kind, user_id=user_id, token_hash=token_hash, created_at=NOW, expires_at=NOW + ttl
    )


def refresh_token(
    token_hash: str, user_id: int, family_id: str, issued_at: datetime = NOW
) -> NewRefreshToken:
    return NewRefreshToken(
        token_hash=token_hash,
        family_id=family_id,
        user_id=user_id,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(days=1),
        authenticated_at=NOW,
        credentials_version=0,
    )


def session_queries(store: Store) -> SessionQueries:
    return store.queries(SessionQueries, InMemorySessionQueries, SqlAlchemySessionQueries)


async def store_tokens(uow_factory: UowFactory, *tokens: NewAccountToken) -> None:
    async with uow_factory() as uow:
        for token in tokens:
            await uow.repository(AccountTokenRepository).add(token)
        await uow.commit()


async def use(
    uow_factory: UowFactory, token_hash: str, kind: AccountTokenKind = RESET
) -> int | None:
    async with uow_factory() as uow:
        used = await uow.repository(AccountTokenRepository).use(
            token_hash, kind, NOW + timedelta(minutes=1)
        )
        await uow.commit()
    return None if used is None else used.user_id


async def test_an_account_token_is_used_once_by_its_kind_before_it_expires(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    await store_tokens(
        uow_factory,
        account_token("a" * 64, ada.id),
        account_token("b" * 64, ada.id, VERIFICATION),
        account_token("c" * 64, ada.id, ttl=timedelta(seconds=30)),
    )

    assert await use(uow_factory, "a" * 64) == ada.id
    assert await use(uow_factory, "a" * 64) is None  # used
    assert await use(uow_factory, "b" * 64, RESET) is None  # another kind
    assert await use(uow_factory, "b" * 64, VERIFICATION) == ada.id
    assert await use(uow_factory, "c" * 64) is None  # expired
    assert await use(uow_factory, "d" * 64) is None  # unknown


async def test_finding_a_usable_token_does_not_use_it(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store_tokens(uow_factory, account_token("a" * 64, ada.id))
    later = NOW + timedelta(minutes=1)

    async with uow_factory() as uow:
        found = await uow.repository(AccountTokenRepository).find_usable("a" * 64, RESET, later)
        other_kind = await uow.repository(AccountTokenRepository).find_usable(
            "a" * 64, VERIFICATION, later
        )
        expired = await uow.repository(AccountTokenRepository).find_usable(
            "a" * 64, RESET, NOW + timedelta(hours=1)
        )

    assert found is not None
    assert (found.user_id, found.created_at) == (ada.id, NOW)
    assert (other_kind, expired) == (None, None)
    assert await use(uow_factory, "a" * 64) == ada.id
    async with uow_factory() as uow:
        assert (
            await uow.repository(AccountTokenRepository).find_usable("a" * 64, RESET, later) is None
        )


async def test_a_use_that_is_rolled_back_leaves_the_token_unused(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store_tokens(uow_factory, account_token("a" * 64, ada.id))
    async with uow_factory() as uow:
        assert await uow.repository(AccountTokenRepository).use("a" * 64, RESET, NOW) is not None

    assert await use(uow_factory, "a" * 64) == ada.id


async def test_voiding_deletes_only_that_users_tokens_of_that_kind(uow_factory: UowFactory) -> None:
    ada, grace = await add_user(uow_factory, "ada"), await add_user(uow_factory, "grace")
    await store_tokens(
        uow_factory,
        account_token("a" * 64, ada.id),
        account_token("b" * 64, ada.id, VERIFICATION),
        account_token("c" * 64, grace.id),
    )
    async with uow_factory() as uow:
        await uow.repository(AccountTokenRepository).void(ada.id, RESET)
        await uow.commit()

    assert await use(uow_factory, "a" * 64) is None
    assert await use(uow_factory, "b" * 64, VERIFICATION) == ada.id
    assert await use(uow_factory, "c" * 64) == grace.id


async def test_concurrent_uses_of_one_token_succeed_exactly_once(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store_tokens(uow_factory, account_token("a" * 64, ada.id))

    results = await asyncio.gather(*(use(uow_factory, "a" * 64) for _ in range(5)))

    assert sorted(results, key=lambda r: r is None) == [ada.id, None, None, None, None]


async def test_a_profile_change_is_stored_and_refused_when_taken(store: Store) -> None:
    ada, grace = await add_user(store.uow, "ada"), await add_user(store.uow, "grace")
    async with store.uow() as uow:
        await uow.repository(UserRepository).change_profile(
            ada.id, username="Ada2", email="new@example.com", email_verified=False
        )
        await uow.commit()

    changed = await store.users.get(ada.id)
    assert changed is not None
    assert (changed.username, changed.email, changed.email_verified) == (
        "Ada2",
        "new@example.com",
        False,
    )
    for username, email, fields in [
        ("GRACE", "new@example.com", ("username",)),
        ("Ada2", "Grace@Example.com", ("email",)),
    ]:
        async with store.uow() as uow:
            with pytest.raises(UserAlreadyExists) as raised:
                await uow.repository(UserRepository).change_profile(
                    ada.id, username=username, email=email, email_verified=False
                )
        assert raised.value.fields == fields
    assert await store.users.get(grace.id) == grace


async def test_flags_and_the_credentials_version_are_stored(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    assert (ada.email_verified, ada.is_admin, ada.credentials_version) == (False, False, 0)
    async with store.uow() as uow:
        await uow.repository(UserRepository).set_email_verified(ada.id, verified=True)
        await uow.repository(UserRepository).set_admin(ada.id, admin=True)
        await uow.repository(UserRepository).revoke_credentials(ada.id)
        await uow.repository(UserRepository).revoke_credentials(ada.id)
        await uow.commit()

    stored = await store.users.get(ada.id)
    assert stored is not None
    assert (stored.email_verified, stored.is_admin, stored.credentials_version) == (True, True, 2)


async def test_the_active_admins_are_listed(uow_factory: UowFactory) -> None:
    ada, grace, bob = [await add_user(uow_factory, n) for n in ("ada", "grace", "bob")]
    async with uow_factory() as uow:
        for user in (ada, grace, bob):
            await uow.repository(UserRepository).set_admin(user.id, admin=True)
        await uow.repository(UserRepository).set_active(grace.id, active=False)
        await uow.commit()

    async with uow_factory() as uow:
        assert list(await uow.repository(UserRepository).lock_active_admins()) == [ada.id, bob.id]


async def test_two_transactions_demoting_each_others_admin_leave_one(
    uow_factory: UowFactory,
) -> None:
    """What ManageUser relies on: the second transaction waits for the first one's lock and
    then sees one admin left, so it does not demote the last one."""
    ada, grace = await add_user(uow_factory, "ada"), await add_user(uow_factory, "grace")
    async with uow_factory() as uow:
        await uow.repository(UserRepository).set_admin(ada.id, admin=True)
        await uow.repository(UserRepository).set_admin(grace.id, admin=True)
        await uow.commit()

    async def demote(target: int) -> bool:
        async with uow_factory() as uow:
            admins = set(await uow.repository(UserRepository).lock_active_admins())
            await asyncio.sleep(0.05)  # let the other transaction reach its lock
            if admins - {target}:
                await uow.repository(UserRepository).set_admin(target, admin=False)
                await uow.commit()
                return True
            return False

    results = await asyncio.gather(demote(ada.id), demote(grace.id))

    assert sorted(results) == [False, True]
    async with uow_factory() as uow:
        assert len(await uow.repository(UserRepository).lock_active_admins()) == 1


async def test_deleting_a_user_deletes_what_they_own_and_frees_their_names(store: Store) -> None:
    ada, grace = await add_user(store.uow, "ada"), await add_user(store.uow, "grace")
    await add_item(store.uow, ada.id, "Lamp")
    kept = await add_item(store.uow, grace.id, "Desk")
    await store_tokens(store.uow, account_token("a" * 64, ada.id))
    async with store.uow() as uow:
        await uow.repository(RefreshTokenRepository).add(refresh_token("r" * 64, ada.id, "f" * 32))
        await uow.commit()

    async with store.uow() as uow:
        await uow.repository(UserRepository).delete(ada.id)
        await uow.commit()

    assert await store.users.get(ada.id) is None
    assert await all_items(store) == [kept]
    assert await use(store.uow, "a" * 64) is None
    async with store.uow() as uow:
        assert await uow.repository(RefreshTokenRepository).get("r" * 64) is None
    again = await add_user(store.uow, "ada")
    assert [u.id for u in await all_users(store)] == [grace.id, again.id]


async def test_sessions_are_the_families_with_a_live_token(store: Store) -> None:
    ada, grace = await add_user(store.uow, "ada"), await add_user(store.uow, "grace")
    later = NOW + timedelta(minutes=10)
    async with store.uow() as uow:
        await uow.repository(RefreshTokenRepository).add(refresh_token("a1" * 32, ada.id, "a" * 32))
        await uow.repository(RefreshTokenRepository).add(refresh_token("b1" * 32, ada.id, "b" * 32))
        await uow.repository(RefreshTokenRepository).add(refresh_token("c1" * 32, ada.id, "c" * 32))
        await uow.repository(RefreshTokenRepository).add(
            refresh_token("g1" * 32, grace.id, "g" * 32)
        )
        await uow.commit()
    async with store.uow() as uow:
        # Family a refreshed once (its first token spent, a new one live); c ended.
        assert await uow.repository(RefreshTokenRepository).spend("a1" * 32, later) is not None
        await uow.repository(RefreshTokenRepository).add(
            refresh_token("a2" * 32, ada.id, "a" * 32, later)
        )
        await uow.repository(RefreshTokenRepository).revoke_family("c" * 32, later)
        await uow.commit()
    first_ids = {}
    async with store.uow() as uow:
        for family in "abc":
            stored = await uow.repository(RefreshTokenRepository).get(f"{family}1" * 32)
            assert stored is not None
            first_ids[family] = stored.id

    queries = session_queries(store)
    sessions = await queries.page(ada.id, later, PageRequest(limit=10))
    first = await queries.page(ada.id, later, PageRequest(limit=1))
    rest = await queries.page(ada.id, later, PageRequest(limit=1, after_id=first[0].id))

    assert [(s.id, s.family_id) for s in sessions] == [
        (first_ids["a"], "a" * 32),
        (first_ids["b"], "b" * 32),
    ]
    assert (sessions[0].created_at, sessions[0].last_used_at) == (NOW, later)
    assert (sessions[1].created_at, sessions[1].last_used_at) == (NOW, NOW)
    assert [s.id for s in first] == [first_ids["a"], first_ids["b"]]  # one extra row
    assert [s.id for s in rest] == [first_ids["b"]]
    # Expired: nothing left to refresh.
    assert list(await queries.page(ada.id, NOW + timedelta(days=2), PageRequest())) == []


async def test_ending_a_session_revokes_its_live_token_for_its_owner_only(
    uow_factory: UowFactory,
) -> None:
    ada, grace = await add_user(uow_factory, "ada"), await add_user(uow_factory, "grace")
    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).add(refresh_token("a1" * 32, ada.id, "a" * 32))
        await uow.repository(RefreshTokenRepository).add(refresh_token("a2" * 32, ada.id, "a" * 32))
        await uow.commit()
    async with uow_factory() as uow:
        first = await uow.repository(RefreshTokenRepository).get("a1" * 32)
        second = await uow.repository(RefreshTokenRepository).get("a2" * 32)
    assert first is not None
    assert second is not None

    async with uow_factory() as uow:
        assert not await uow.repository(RefreshTokenRepository).revoke_session(
            grace.id, first.id, NOW
        )
        assert not await uow.repository(RefreshTokenRepository).revoke_session(
            ada.id, second.id, NOW
        )  # not first
        assert await uow.repository(RefreshTokenRepository).revoke_session(ada.id, first.id, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.repository(RefreshTokenRepository).revoke_session(
            ada.id, first.id, NOW
        )  # ended
        revoked = await uow.repository(RefreshTokenRepository).get("a2" * 32)
    assert revoked is not None
    assert revoked.revoked_at == NOW
