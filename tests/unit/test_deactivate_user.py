"""DeactivateUser on the in-memory adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.deactivate_user import DeactivateUser, DeactivateUserCommand
from application.errors import UsernameNotFound, UserNotFound
from application.ports import NewRefreshToken, RefreshTokenRepository, UserRepository
from tests.unit.support import add_user

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def _stored_active(db: InMemoryDatabase, user_id: int) -> bool | None:
    async with InMemoryUnitOfWork(db) as uow:
        user = await uow.repository(UserRepository).get(user_id)
    return None if user is None else user.is_active


@pytest.mark.parametrize("by", ["id", "username"])
async def test_deactivates_the_named_user_and_no_other(db: InMemoryDatabase, by: str) -> None:
    ada = await add_user(db, "ada")
    grace = await add_user(db, "grace")
    command = DeactivateUserCommand(
        user_id=ada.id if by == "id" else None, username="ADA" if by == "username" else None
    )

    result = await DeactivateUser(InMemoryUnitOfWork(db)).execute(command)

    assert result.was_active
    assert result.user.id == ada.id
    assert not result.user.is_active
    assert await _stored_active(db, ada.id) is False
    assert await _stored_active(db, grace.id) is True


async def test_deactivating_an_inactive_user_leaves_it_inactive(db: InMemoryDatabase) -> None:
    ada = await add_user(db, "ada", is_active=False)

    result = await DeactivateUser(InMemoryUnitOfWork(db)).execute(
        DeactivateUserCommand(user_id=ada.id)
    )

    assert not result.was_active
    assert await _stored_active(db, ada.id) is False


async def test_an_unknown_id_or_username_is_an_error(db: InMemoryDatabase) -> None:
    await add_user(db, "ada")
    use_case = DeactivateUser(InMemoryUnitOfWork(db))

    with pytest.raises(UserNotFound):
        await use_case.execute(DeactivateUserCommand(user_id=999))
    with pytest.raises(UsernameNotFound):
        await use_case.execute(DeactivateUserCommand(username="nobody"))


@pytest.mark.parametrize("fields", [{}, {"user_id": 1, "username": "ada"}], ids=["neither", "both"])
def test_the_command_names_the_user_exactly_once(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        DeactivateUserCommand(**fields)  # type: ignore[arg-type]


async def _hold_refresh_token(db: InMemoryDatabase, token_hash: str, user_id: int) -> None:
    async with InMemoryUnitOfWork(db) as uow:
        await uow.repository(RefreshTokenRepository).add(
            NewRefreshToken(
                token_hash, token_hash[:32], user_id, NOW, NOW + timedelta(days=14), NOW, 0
            )
        )
        await uow.commit()


async def _revoked_at(db: InMemoryDatabase, token_hash: str) -> datetime | None:
    async with InMemoryUnitOfWork(db) as uow:
        stored = await uow.repository(RefreshTokenRepository).get(token_hash)
    assert stored is not None
    return stored.revoked_at


@pytest.mark.parametrize("active", [True, False], ids=["active", "already inactive"])
async def test_deactivation_revokes_every_refresh_token_of_the_user(
    db: InMemoryDatabase, active: bool
) -> None:
    """Otherwise a session could outlive the account until its refresh token expired (the
    refresh itself refuses an inactive user, but a token left live is a token left to steal)."""
    ada = await add_user(db, "ada", is_active=active)
    grace = await add_user(db, "grace")
    await _hold_refresh_token(db, "a" * 64, ada.id)
    await _hold_refresh_token(db, "b" * 64, ada.id)
    await _hold_refresh_token(db, "g" * 64, grace.id)

    await DeactivateUser(InMemoryUnitOfWork(db), clock=lambda: NOW).execute(
        DeactivateUserCommand(user_id=ada.id)
    )

    assert [await _revoked_at(db, h * 64) for h in "abg"] == [NOW, NOW, None]
