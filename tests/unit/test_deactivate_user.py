"""DeactivateUser on the in-memory adapters."""

from __future__ import annotations

import pytest

from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from application.deactivate_user import DeactivateUser, DeactivateUserCommand
from application.errors import UsernameNotFound, UserNotFound
from tests.unit.support import add_user


async def _stored_active(db: InMemoryDatabase, user_id: int) -> bool | None:
    async with InMemoryUnitOfWork(db) as uow:
        user = await uow.users.get(user_id)
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


async def test_deactivating_an_inactive_user_changes_nothing(db: InMemoryDatabase) -> None:
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
