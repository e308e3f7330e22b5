"""The one seam between the account use cases and the throttle port.

Issue 12 throttles email-sending endpoints and the current-password check "through the same
throttle as logins". Until issue 13's throttle port lands, each use here goes through the
existing ``LoginThrottle`` port (its adapter shares counts across processes when Redis is set):
one method per use, so swapping the port changes this module only.

- ``password_check`` / ``password_check_failed``: a wrong current password counts as a failed
  login of that account from that address, on the very counters ``AuthenticateUser`` uses.
- ``password_reset_requested``: per email address and per client address, on a throttle of
  its own limits (PASSWORD_RESET_MAX_PER_EMAIL, PASSWORD_RESET_MAX_PER_CLIENT).
- ``verification_email_requested``: per user (VERIFICATION_EMAIL_MAX_PER_USER).

The login port counts failures between a check and a record, so an email request is "checked,
then recorded": of N requests racing for the last free one, a few may pass (the overshoot is
bounded by one client's concurrency); issue 13's atomic reservation removes it.
"""

from __future__ import annotations

from application.errors import LoginThrottled, RequestsThrottled
from application.ports import LoginThrottle
from domain.user import email_key


def login_account_key(user_id: int) -> str:
    """The login throttle's key of an existing account (``AuthenticateUser`` uses it too)."""
    return f"user:{user_id}"


class AccountThrottles:
    def __init__(
        self,
        *,
        logins: LoginThrottle,
        password_resets: LoginThrottle,
        verification_emails: LoginThrottle,
    ) -> None:
        self._logins = logins
        self._password_resets = password_resets
        self._verification_emails = verification_emails

    async def password_check(self, user_id: int, client_address: str | None) -> None:
        """Before a current password is verified: ``LoginThrottled`` past the login limits."""
        await self._logins.check(login_account_key(user_id), client_address)

    async def password_check_failed(self, user_id: int, client_address: str | None) -> None:
        await self._logins.record_failure(login_account_key(user_id), client_address)

    async def password_reset_requested(self, email: str, client_address: str | None) -> None:
        """Count a reset request for ``email`` from ``client_address``; ``RequestsThrottled``
        past either limit (known and unknown addresses alike)."""
        await self._spend(self._password_resets, f"email:{email_key(email)}", client_address)

    async def verification_email_requested(self, user_id: int) -> None:
        await self._spend(self._verification_emails, f"user:{user_id}", None)

    @staticmethod
    async def _spend(throttle: LoginThrottle, key: str, client_address: str | None) -> None:
        try:
            await throttle.check(key, client_address)
        except LoginThrottled as throttled:
            raise RequestsThrottled(throttled.retry_after_seconds) from None
        await throttle.record_failure(key, client_address)
