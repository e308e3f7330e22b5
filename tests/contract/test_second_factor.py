"""The second factor's repository on memory, SQLite and PostgreSQL: enrolments, the user's
``mfa_enabled`` flag, accepted steps (each at most once, concurrent replays included), the
login generation, recovery codes, and what deleting a user takes with it. Plus ``amr`` kept by
refresh tokens and the revocation of every other session."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from application.ports import NewRefreshToken, RefreshTokenRepository, UserRepository
from application.ports.second_factor import MfaRepository, StoredMfa
from tests.conftest import Store, UowFactory
from tests.contract.support import add_user

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
STEP = 59_000_000


async def start(uow_factory: UowFactory, user_id: int, ciphertext: str = "sealed-1") -> None:
    async with uow_factory() as uow:
        await uow.repository(MfaRepository).start_enrolment(user_id, ciphertext, NOW)
        await uow.commit()


async def get(uow_factory: UowFactory, user_id: int) -> StoredMfa | None:
    async with uow_factory() as uow:
        return await uow.repository(MfaRepository).get(user_id)


async def enable(uow_factory: UowFactory, user_id: int, step: int = STEP) -> bool:
    async with uow_factory() as uow:
        done = await uow.repository(MfaRepository).enable(user_id, step, NOW)
        await uow.commit()
    return done


async def accept(uow_factory: UowFactory, user_id: int, step: int) -> bool:
    async with uow_factory() as uow:
        done = await uow.repository(MfaRepository).accept_step(user_id, step)
        await uow.commit()
    return done


async def test_an_enrolment_is_pending_until_enabled_and_then_sets_the_flag(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    assert await get(store.uow, ada.id) is None
    await start(store.uow, ada.id)
    assert await get(store.uow, ada.id) == StoredMfa(
        user_id=ada.id, secret_ciphertext="sealed-1", enabled=False, last_step=-1, generation=0
    )
    pending = await store.users.get(ada.id)
    assert pending is not None
    assert not pending.mfa_enabled
    await start(store.uow, ada.id, "sealed-2")  # a new start replaces a pending one
    assert await enable(store.uow, ada.id)
    assert await get(store.uow, ada.id) == StoredMfa(
        user_id=ada.id, secret_ciphertext="sealed-2", enabled=True, last_step=STEP, generation=0
    )
    on = await store.users.get(ada.id)
    assert on is not None
    assert on.mfa_enabled
    async with store.uow() as uow:
        by_name = await uow.repository(UserRepository).get_by_username("ada")
    assert by_name is not None
    assert by_name.mfa_enabled
    assert not await enable(store.uow, ada.id)  # on already


async def test_enabling_with_nothing_started_does_nothing(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    assert not await enable(store.uow, ada.id)
    user = await store.users.get(ada.id)
    assert user is not None
    assert not user.mfa_enabled


async def test_a_step_is_accepted_only_when_newer_than_the_last(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await start(uow_factory, ada.id)
    assert not await accept(uow_factory, ada.id, STEP + 1)  # not on yet
    await enable(uow_factory, ada.id)
    assert not await accept(uow_factory, ada.id, STEP)
    assert not await accept(uow_factory, ada.id, STEP - 1)
    assert await accept(uow_factory, ada.id, STEP + 1)
    assert not await accept(uow_factory, ada.id, STEP + 1)
    stored = await get(uow_factory, ada.id)
    assert stored is not None
    assert stored.last_step == STEP + 1


async def test_concurrent_acceptances_of_one_step_succeed_once(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await start(uow_factory, ada.id)
    await enable(uow_factory, ada.id)
    results = await asyncio.gather(*(accept(uow_factory, ada.id, STEP + 1) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_an_acceptance_that_is_rolled_back_leaves_the_step_free(
    uow_factory: UowFactory,
) -> None:
    ada = await add_user(uow_factory, "ada")
    await start(uow_factory, ada.id)
    await enable(uow_factory, ada.id)
    async with uow_factory() as uow:
        assert await uow.repository(MfaRepository).accept_step(ada.id, STEP + 1)
    assert await accept(uow_factory, ada.id, STEP + 1)


async def test_the_generation_moves_on_once_per_value(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await start(uow_factory, ada.id)
    await enable(uow_factory, ada.id)

    async def advance(generation: int) -> bool:
        async with uow_factory() as uow:
            done = await uow.repository(MfaRepository).advance_generation(ada.id, generation)
            await uow.commit()
        return done

    assert sorted(await asyncio.gather(*(advance(0) for _ in range(4)))) == [
        False,
        False,
        False,
        True,
    ]
    assert not await advance(0)
    assert await advance(1)
    stored = await get(uow_factory, ada.id)
    assert stored is not None
    assert stored.generation == 2


async def test_recovery_codes_are_replaced_and_used_once(uow_factory: UowFactory) -> None:
    ada, bob = await add_user(uow_factory, "ada"), await add_user(uow_factory, "bob")
    await start(uow_factory, ada.id)
    await enable(uow_factory, ada.id)
    async with uow_factory() as uow:
        await uow.repository(MfaRepository).replace_recovery_codes(ada.id, ["a" * 64, "b" * 64])
        await uow.repository(MfaRepository).replace_recovery_codes(bob.id, ["c" * 64])
        await uow.commit()

    async def use(user_id: int, code_hash: str) -> bool:
        async with uow_factory() as uow:
            done = await uow.repository(MfaRepository).use_recovery_code(user_id, code_hash, NOW)
            await uow.commit()
        return done

    async def unused(user_id: int) -> int:
        async with uow_factory() as uow:
            return await uow.repository(MfaRepository).unused_recovery_codes(user_id)

    assert not await use(ada.id, "c" * 64)  # bob's
    assert sorted(await asyncio.gather(*(use(ada.id, "a" * 64) for _ in range(3)))) == [
        False,
        False,
        True,
    ]
    assert await unused(ada.id) == 1
    async with uow_factory() as uow:
        await uow.repository(MfaRepository).replace_recovery_codes(ada.id, ["d" * 64])
        await uow.commit()
    assert not await use(ada.id, "b" * 64)  # replaced
    assert await unused(ada.id) == 1
    assert await use(ada.id, "d" * 64)
    assert await unused(bob.id) == 1


async def test_disabling_removes_the_enrolment_the_codes_and_the_flag(store: Store) -> None:
    ada = await add_user(store.uow, "ada")
    await start(store.uow, ada.id)
    await enable(store.uow, ada.id)
    async with store.uow() as uow:
        await uow.repository(MfaRepository).replace_recovery_codes(ada.id, ["a" * 64])
        await uow.repository(MfaRepository).disable(ada.id)
        await uow.commit()
    assert await get(store.uow, ada.id) is None
    user = await store.users.get(ada.id)
    assert user is not None
    assert not user.mfa_enabled
    async with store.uow() as uow:
        assert await uow.repository(MfaRepository).unused_recovery_codes(ada.id) == 0
    await start(store.uow, ada.id)  # and it can start over
    assert await enable(store.uow, ada.id)


async def test_deleting_a_user_takes_the_enrolment_and_codes(uow_factory: UowFactory) -> None:
    ada = await add_user(uow_factory, "ada")
    await start(uow_factory, ada.id)
    await enable(uow_factory, ada.id)
    async with uow_factory() as uow:
        await uow.repository(MfaRepository).replace_recovery_codes(ada.id, ["a" * 64])
        await uow.repository(UserRepository).delete(ada.id)
        await uow.commit()
    assert await get(uow_factory, ada.id) is None
    async with uow_factory() as uow:
        assert await uow.repository(MfaRepository).unused_recovery_codes(ada.id) == 0


def _token(token_hash: str, user_id: int, family_id: str, amr: tuple[str, ...]) -> NewRefreshToken:
    return NewRefreshToken(
        token_hash=token_hash,
        family_id=family_id,
        user_id=user_id,
        issued_at=NOW,
        expires_at=NOW + timedelta(days=1),
        authenticated_at=NOW,
        credentials_version=0,
        amr=amr,
    )


async def test_refresh_tokens_keep_amr_and_other_families_can_be_revoked(
    uow_factory: UowFactory,
) -> None:
    ada, bob = await add_user(uow_factory, "ada"), await add_user(uow_factory, "bob")
    async with uow_factory() as uow:
        tokens = uow.repository(RefreshTokenRepository)
        await tokens.add(_token("1" * 64, ada.id, "a" * 32, ("pwd", "otp")))
        await tokens.add(_token("2" * 64, ada.id, "b" * 32, ("pwd",)))
        await tokens.add(_token("3" * 64, bob.id, "c" * 32, ("pwd",)))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.repository(RefreshTokenRepository).revoke_other_families(ada.id, "a" * 32, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        tokens = uow.repository(RefreshTokenRepository)
        kept, ended, bobs = [await tokens.get(h * 64) for h in "123"]
    assert kept is not None
    assert ended is not None
    assert bobs is not None
    assert kept.amr == ("pwd", "otp")
    assert kept.revoked_at is None
    assert ended.amr == ("pwd",)
    assert ended.revoked_at == NOW
    assert bobs.revoked_at is None
