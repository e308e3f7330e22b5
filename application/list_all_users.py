"""ListAllUsers: every user with their private fields, a page at a time, for an admin."""

from __future__ import annotations

from typing import ClassVar

from application.errors import AdminMfaRequired, ApplicationError, NotAdmin
from application.list_users import ListUsers
from application.pagination import Page, PageRequest
from application.ports import UserQueries
from domain.user import User


class ListAllUsers:
    """``ListUsers`` for an admin: the same pages; the HTTP layer shows them private."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (AdminMfaRequired, NotAdmin)

    def __init__(self, users: UserQueries, *, admin_mfa_required: bool = False) -> None:
        self._list_users = ListUsers(users)
        self._admin_mfa_required = admin_mfa_required

    async def execute(self, actor: User, page: PageRequest) -> Page[User]:
        if not actor.is_admin:
            raise NotAdmin
        if self._admin_mfa_required and not actor.mfa_enabled:
            raise AdminMfaRequired  # ADMIN_MFA_REQUIRED
        return await self._list_users.execute(page)
