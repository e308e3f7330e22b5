"""UpdateProfile: the caller changes their username and/or email address."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from application.account_emails import (
    EMAIL_CHANGED,
    EMAIL_VERIFICATION_REQUESTED,
    AccountEmails,
)
from application.credentials import require_fresh_login
from application.errors import ApplicationError, NotAuthenticated, UserAlreadyExists
from application.events import NO_EVENTS, USER_PROFILE_CHANGED, Events
from application.get_current_user import Caller
from application.ports import UnitOfWork, UserRepository
from application.ports.account_tokens import AccountTokenKind, AccountTokenRepository
from domain.user import User, email_key


@dataclass(frozen=True, slots=True)
class UpdateProfileCommand:
    username: str | None = None
    email: str | None = None


class UpdateProfile:
    """A new email address (compared as addresses compare: case-insensitively) needs a fresh
    login (RFC 9470 step-up), is unverified until its owner follows the link sent to it, the
    old address gets a notice, and reset links sent to the old address stop working. A
    username alone needs no fresh login. Taken names are a 409 naming the field, as at
    signup."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (NotAuthenticated, UserAlreadyExists)

    def __init__(
        self,
        uow: UnitOfWork,
        emails: AccountEmails,
        reauth_max_age_seconds: int,
        events: Events = NO_EVENTS,
    ) -> None:
        self._uow = uow
        self._events = events
        self._emails = emails
        self._reauth_max_age_seconds = reauth_max_age_seconds

    async def execute(self, caller: Caller, cmd: UpdateProfileCommand) -> User:
        now = self._emails.clock()
        email_changes = cmd.email is not None and email_key(cmd.email) != email_key(
            caller.user.email
        )
        if email_changes:
            require_fresh_login(
                caller.claims,
                now,
                self._reauth_max_age_seconds,
                mfa_enabled=caller.user.mfa_enabled,
            )
        async with self._uow:
            user = await self._uow.repository(UserRepository).get(caller.user.id)
            if user is None:
                raise NotAuthenticated
            updated = replace(
                user,
                username=cmd.username if cmd.username is not None else user.username,
                email=cmd.email if cmd.email is not None and email_changes else user.email,
                email_verified=False if email_changes else user.email_verified,
            )
            if updated == user:
                return user
            # Looked up first so a 409 names every taken field; when two changes race past
            # this check, the unique indexes decide and the repository raises the same error.
            taken = []
            other = await self._uow.repository(UserRepository).get_by_username(updated.username)
            if other is not None and other.id != user.id:
                taken.append("username")
            if email_changes:
                other = await self._uow.repository(UserRepository).get_by_email(updated.email)
                if other is not None and other.id != user.id:
                    taken.append("email")
            if taken:
                raise UserAlreadyExists(tuple(taken))
            await self._uow.repository(UserRepository).change_profile(
                user.id,
                username=updated.username,
                email=updated.email,
                email_verified=updated.email_verified,
            )
            if email_changes:
                # A reset link sent to the old address must not outlive the change.
                await self._uow.repository(AccountTokenRepository).void(
                    user.id, AccountTokenKind.RESET
                )
                await self._emails.queue(
                    self._uow,
                    EMAIL_VERIFICATION_REQUESTED,
                    updated,
                    token_kind=AccountTokenKind.VERIFICATION,
                )
                await self._emails.queue(self._uow, EMAIL_CHANGED, updated, to=user.email)
            await self._events.record(
                self._uow,
                USER_PROFILE_CHANGED,
                user.id,
                username=updated.username,
                email=updated.email,
                email_verified=updated.email_verified,
                changed=[
                    name
                    for name in ("username", "email")
                    if getattr(updated, name) != getattr(user, name)
                ],
            )
            await self._uow.commit()
        return updated
