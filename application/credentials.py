"""Credentials rules shared by the account use cases: revoking them all, and fresh logins."""

from __future__ import annotations

from datetime import datetime, timedelta

from application.errors import ReauthenticationRequired
from application.ports import AccessClaims, RefreshTokenRepository, UnitOfWork, UserRepository
from application.ports.account_tokens import AccountTokenKind, AccountTokenRepository


async def revoke_all_credentials(uow: UnitOfWork, user_id: int, now: datetime) -> None:
    """Every refresh token of the user is revoked, every access token issued before is refused
    from now on (its credentials version is older), and every password-reset link sent before
    stops working, in the caller's transaction. Credentials issued afterwards carry the new
    version and work, within the same second too."""
    await uow.repository(UserRepository).revoke_credentials(user_id)
    await uow.repository(RefreshTokenRepository).revoke_all_for_user(user_id, now)
    await uow.repository(AccountTokenRepository).void(user_id, AccountTokenKind.RESET)


def require_fresh_login(
    claims: AccessClaims, now: datetime, max_age_seconds: int, *, mfa_enabled: bool
) -> None:
    """RFC 9470 step-up: raise ``ReauthenticationRequired`` unless the access token's login
    (``auth_time``, which refreshes keep) happened at most ``max_age_seconds`` ago and, for a
    user with the second factor on, passed it too (``otp`` in its ``amr``, RFC 8176)."""
    if now - claims.auth_time > timedelta(seconds=max_age_seconds):
        raise ReauthenticationRequired(max_age_seconds)
    if mfa_enabled and "otp" not in claims.amr:
        raise ReauthenticationRequired(max_age_seconds)
