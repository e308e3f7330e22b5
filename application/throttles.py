"""What the account use cases pay to the throttle (docs/decisions/0032): the same throttle port
as logins, so counts are shared across processes when Redis is set, and every count is reserved
atomically before the work it limits.

- ``password_check``: a current-password check is a login attempt of that account from that
  address (``LoginAttempts``): past the login limits both it and logging in answer 429, before
  any hashing; a right password gives back its pair's count.
- ``password_reset_requested``: per email address and per client address.
- ``verification_email_requested``: per user (the welcome email is not counted).
"""

from __future__ import annotations

from application.login_attempts import (
    LoginAttempt,
    LoginAttempts,
    address_key,
    user_account_key,
)
from application.ports import Count, Limit, Throttle
from domain.user import email_key

PASSWORD_RESET_PER_EMAIL = Limit("password-reset-email", "password reset emails for this address")
PASSWORD_RESET_PER_CLIENT = Limit(
    "password-reset-client", "password reset requests from this client address"
)
VERIFICATION_EMAIL_PER_USER = Limit(
    "verification-email-user", "verification emails for this account"
)
ACCOUNT_EMAIL_LIMITS = (
    PASSWORD_RESET_PER_EMAIL,
    PASSWORD_RESET_PER_CLIENT,
    VERIFICATION_EMAIL_PER_USER,
)


class AccountThrottles:
    def __init__(self, throttle: Throttle) -> None:
        self._throttle = throttle
        self._attempts = LoginAttempts(throttle)

    async def password_check(self, user_id: int, client_address: str | None) -> LoginAttempt:
        """Reserve a current-password check (``Throttled`` past the login limits); call
        ``succeeded()`` on the attempt when the password was right."""
        return await self._attempts.begin(user_account_key(user_id), client_address)

    async def password_reset_requested(self, email: str, client_address: str | None) -> None:
        """Count a reset request for ``email`` from ``client_address``; ``Throttled`` past
        either limit (known and unknown addresses alike)."""
        counts = [Count(PASSWORD_RESET_PER_EMAIL, f"email:{email_key(email)}")]
        if client_address is not None:
            counts.append(Count(PASSWORD_RESET_PER_CLIENT, address_key(client_address)))
        await self._throttle.reserve(*counts)

    async def verification_email_requested(self, user_id: int) -> None:
        await self._throttle.reserve(Count(VERIFICATION_EMAIL_PER_USER, f"user:{user_id}"))
