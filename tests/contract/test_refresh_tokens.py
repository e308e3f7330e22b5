"""The refresh-token repository contract, run over memory, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from application.ports import (
    NewRefreshToken,
    RefreshTokenRepository,
    StoredRefreshToken,
    UserRepository,
)
from tests.conftest import UowFactory
from tests.contract.support import add_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def new_token(
    token_hash: str, user_id: int, family_id: str = "f" * 32, *, ttl: timedelta = timedelta(days=1)
) -> NewRefreshToken:
    return NewRefreshToken(
        token_hash=token_hash,
        family_id=family_id,
        user_id=user_id,
        issued_at=NOW,
        expires_at=NOW + ttl,
        authenticated_at=NOW - timedelta(hours=1),
        credentials_version=2,
    )


async def store(uow_factory: UowFactory, *tokens: NewRefreshToken) -> None:
    async with uow_factory() as uow:
        for token in tokens:
            await uow.repository(RefreshTokenRepository).add(token)
        await uow.commit()


async def stored(uow_factory: UowFactory, token_hash: str) -> StoredRefreshToken | None:
    async with uow_factory() as uow:
        return await uow.repository(RefreshTokenRepository).get(token_hash)


async def test_a_stored_token_is_found_by_its_hash(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(uow_factory, new_token("a" * 64, ada.id))

    found = await stored(uow_factory, "a" * 64)

    assert found == StoredRefreshToken(
        token_hash="a" * 64,
        family_id="f" * 32,
        user_id=ada.id,
        issued_at=NOW,
        expires_at=NOW + timedelta(days=1),
        spent_at=None,
        revoked_at=None,
        authenticated_at=NOW - timedelta(hours=1),
        credentials_version=2,
        id=found.id if found else 0,
    )
    assert await stored(uow_factory, "b" * 64) is None


async def test_a_token_is_spent_once(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(uow_factory, new_token("a" * 64, ada.id))

    async with uow_factory() as uow:
        first = await uow.repository(RefreshTokenRepository).spend("a" * 64, LATER)
        await uow.commit()
    async with uow_factory() as uow:
        second = await uow.repository(RefreshTokenRepository).spend("a" * 64, LATER)

    assert first is not None
    assert first.spent_at == LATER
    assert second is None
    found = await stored(uow_factory, "a" * 64)
    assert found is not None
    assert found.spent_at == LATER


async def test_an_uncommitted_spend_is_rolled_back(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(uow_factory, new_token("a" * 64, ada.id))

    async with uow_factory() as uow:
        assert await uow.repository(RefreshTokenRepository).spend("a" * 64, LATER) is not None

    found = await stored(uow_factory, "a" * 64)
    assert found is not None
    assert found.spent_at is None


async def test_unknown_expired_and_revoked_tokens_cannot_be_spent(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(
        uow_factory,
        new_token("e" * 64, ada.id, "1" * 32, ttl=timedelta(minutes=5)),  # expires at LATER
        new_token("r" * 64, ada.id, "2" * 32),
    )
    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).revoke_family("2" * 32, NOW)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.repository(RefreshTokenRepository).spend("u" * 64, NOW) is None
        assert await uow.repository(RefreshTokenRepository).spend("e" * 64, LATER) is None
        assert await uow.repository(RefreshTokenRepository).spend("r" * 64, NOW) is None
        # One moment earlier, the expiring one was still good.
        assert (
            await uow.repository(RefreshTokenRepository).spend(
                "e" * 64, LATER - timedelta(seconds=1)
            )
            is not None
        )


async def test_revoking_a_family_touches_only_that_family(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(
        uow_factory,
        new_token("a" * 64, ada.id, "1" * 32),
        new_token("b" * 64, ada.id, "1" * 32),
        new_token("c" * 64, ada.id, "2" * 32),
    )

    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).revoke_family("1" * 32, LATER)
        await uow.commit()

    revoked = [await stored(uow_factory, h * 64) for h in "abc"]
    assert [token.revoked_at if token else "missing" for token in revoked] == [LATER, LATER, None]


async def test_revoking_a_users_tokens_touches_every_family_of_theirs_and_no_one_elses(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    grace = await add_user(uow_factory, "grace")
    await store(
        uow_factory,
        new_token("a" * 64, ada.id, "1" * 32),
        new_token("b" * 64, ada.id, "2" * 32),
        new_token("c" * 64, grace.id, "3" * 32),
    )
    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).revoke_family("2" * 32, NOW)
        await uow.commit()

    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).revoke_all_for_user(ada.id, LATER)
        await uow.commit()

    revoked = [await stored(uow_factory, h * 64) for h in "abc"]
    # b keeps its first revocation time; grace's token is untouched.
    assert [token.revoked_at if token else "missing" for token in revoked] == [LATER, NOW, None]


async def test_a_revoked_token_keeps_its_first_revocation_time(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(uow_factory, new_token("a" * 64, ada.id))
    for moment in (NOW, LATER):
        async with uow_factory() as uow:
            await uow.repository(RefreshTokenRepository).revoke_family("f" * 32, moment)
            await uow.commit()

    found = await stored(uow_factory, "a" * 64)
    assert found is not None
    assert found.revoked_at == NOW


async def test_of_concurrent_spends_of_one_token_exactly_one_wins(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    await store(uow_factory, new_token("a" * 64, ada.id))

    async def spend() -> bool:
        async with uow_factory() as uow:
            spent = await uow.repository(RefreshTokenRepository).spend("a" * 64, LATER)
            await asyncio.sleep(0.01)  # hold the transaction open while the others try
            await uow.commit()
        return spent is not None

    results = await asyncio.gather(*(spend() for _ in range(5)))

    assert results.count(True) == 1


async def test_a_users_password_hash_can_be_replaced(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    grace = await add_user(uow_factory, "grace")

    async with uow_factory() as uow:
        await uow.repository(UserRepository).set_password_hash(ada.id, "$argon2id$new")
        await uow.commit()

    async with uow_factory() as uow:
        stored_ada = await uow.repository(UserRepository).get(ada.id)
        stored_grace = await uow.repository(UserRepository).get(grace.id)
    assert stored_ada is not None
    assert stored_ada.hashed_password == "$argon2id$new"
    assert stored_grace == grace
