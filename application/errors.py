"""Errors the use cases raise. The HTTP entrypoint maps each to a status in one table."""

from __future__ import annotations


class ApplicationError(Exception):
    """Base of every error a use case raises on purpose.

    A use case or adapter names the errors it raises in a ``raises`` class attribute; the HTTP
    entrypoint documents each operation's statuses from those of the classes it is built from
    (tests/unit/test_declared_errors.py checks each list against the module's ``raise``s).
    """


class UserNotFound(ApplicationError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} does not exist")
        self.user_id = user_id


class UsernameNotFound(ApplicationError):
    def __init__(self, username: str) -> None:
        super().__init__(f"no user is called {username!r}")
        self.username = username


class ItemNotFound(ApplicationError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"item {item_id} does not exist")
        self.item_id = item_id


class UserAlreadyExists(ApplicationError):
    """The email or the username (or both) belong to another account."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        super().__init__(f"{' and '.join(fields)} already taken")
        self.fields = fields


class NotResourceOwner(ApplicationError):
    """The caller acts on a resource that belongs to someone else."""


class InvalidCredentials(ApplicationError):
    """Login failed: unknown user, wrong password or inactive account, deliberately alike."""


class NotAuthenticated(ApplicationError):
    """No usable access token: missing, malformed, expired or forged, or its user is gone or
    inactive."""


class StorageUnavailable(ApplicationError):
    """The database cannot be reached right now; the request may be retried."""


class InvalidRefreshToken(ApplicationError):
    """A refresh token that is unknown, expired, spent or revoked (one answer for all)."""


class Throttled(ApplicationError):
    """A throttle's limit is spent for this key (failed logins for this account from this
    address, ...); retry later. ``counts`` says what the limit counts."""

    def __init__(self, retry_after_seconds: int, counts: str) -> None:
        super().__init__(f"too many {counts}; retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds
        self.counts = counts


class ThrottleUnavailable(ApplicationError):
    """The throttle's counts cannot be read or written (their store is down): the attempt is
    refused rather than let through unthrottled."""


class PasswordHashingBusy(ApplicationError):
    """Every password-hashing slot stayed busy for the whole queue timeout; retry later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"password hashing is saturated; retry in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class NotReady(ApplicationError):
    """A dependency did not answer its readiness check in time."""

    def __init__(self, checks: dict[str, str]) -> None:
        failing = ", ".join(f"{name} ({state})" for name, state in checks.items() if state != "ok")
        super().__init__(f"not ready: {failing}")
        self.checks = checks
        self.failing = failing


class OutboxMessageNotDead(ApplicationError):
    """``outbox retry`` named a message that does not exist or is not dead."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"outbox message {message_id} does not exist or is not dead")
        self.message_id = message_id


class PasswordRejected(ApplicationError):
    """A new password breaks the password policy; ``reason`` says how."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


class InvalidAccountToken(ApplicationError):
    """A verification or reset token that is unknown, expired or used (one answer for all)."""


class EmailAlreadyVerified(ApplicationError):
    """A new verification email was asked for an address that is verified already."""


class WrongPassword(ApplicationError):
    """The current password given to confirm a change is not the account's."""


class ReauthenticationRequired(ApplicationError):
    """The change needs a login at most ``max_age_seconds`` old (RFC 9470 step-up)."""

    def __init__(self, max_age_seconds: int) -> None:
        super().__init__(f"this change needs a login at most {max_age_seconds} s old")
        self.max_age_seconds = max_age_seconds


class NotAdmin(ApplicationError):
    """Only an administrator may do this."""

    def __init__(self) -> None:
        super().__init__("only an administrator may do this")


class LastActiveAdmin(ApplicationError):
    """The change would leave no active administrator."""

    def __init__(self) -> None:
        super().__init__("that would leave no active administrator")


class SessionNotFound(ApplicationError):
    def __init__(self, session_id: int) -> None:
        super().__init__(f"session {session_id} does not exist")
        self.session_id = session_id


# The second factor (TOTP, RFC 6238) and recovery codes.


class MfaRequired(ApplicationError):
    """The password was right and the account has a second factor: no tokens yet. The client
    sends ``mfa_token`` and a code to ``POST /auth/token/mfa``."""

    def __init__(self, mfa_token: str) -> None:
        super().__init__("a second factor is required")
        self.mfa_token = mfa_token


class InvalidMfaToken(ApplicationError):
    """An ``mfa_token`` that is unknown, forged, expired or used (one answer for all)."""


class WrongMfaLoginCode(ApplicationError):
    """A code or recovery code at login that is wrong or was used already; the ``mfa_token``
    stays usable until it expires."""


class WrongMfaCode(ApplicationError):
    """A code or recovery code given to confirm an account change that is wrong or used."""


class MfaEnrolmentNotStarted(ApplicationError):
    """A confirmation with no enrolment started (``POST /users/me/mfa/totp`` first)."""


class MfaAlreadyEnabled(ApplicationError):
    """The second factor is on already."""

    def __init__(self) -> None:
        super().__init__("the second factor is on already")


class MfaNotEnabled(ApplicationError):
    """The second factor is not on."""

    def __init__(self) -> None:
        super().__init__("the second factor is not on")


class AdminMfaRequired(ApplicationError):
    """ADMIN_MFA_REQUIRED: an administrator must turn the second factor on to administer."""
