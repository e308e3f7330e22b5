"""AuthenticateUser: exchange a username (or email) and password for a token pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from application.errors import ApplicationError, InvalidCredentials, MfaRequired
from application.login_attempts import LoginAttempts, account_key
from application.ports import PasswordHasher, Throttle, UnitOfWork, UserRepository
from application.ports.second_factor import MfaChallenge, MfaChallenges, MfaRepository
from application.token_pairs import TokenPair, TokenPairIssuer
from domain.user import User


@dataclass(frozen=True, slots=True)
class AuthenticateUserCommand:
    login: str  # a username, or an email address when it contains "@"
    password: str
    client_address: str | None = None


class AuthenticateUser:
    """Every failure raises the same ``InvalidCredentials`` after the same amount of hashing
    work, so neither the answer nor its timing tells whether an account exists.

    Each attempt reserves its password check from the throttle before any hashing
    (``LoginAttempts``: per account and address, per address, per account): past a limit,
    ``Throttled`` costs one indexed look-up and no argon2 work, and N simultaneous guesses check
    at most the limit's worth of passwords. A success gives back its (account, address) count.
    A successful login whose stored hash was made with other argon2 parameters stores a fresh
    hash made with the current ones.

    For an account with the second factor on, the right password gives no tokens but
    ``MfaRequired`` with an ``mfa_token`` for ``CompleteMfaLogin``, and its reservation stays
    counted until a code is accepted: giving the pair's count back here would let whoever knows
    the password guess codes without limit, logging in again between guesses. A wrong password
    is answered exactly as for any account (the same error after the same hashing).
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidCredentials, MfaRequired)

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        issuer: TokenPairIssuer,
        throttle: Throttle,
        challenges: MfaChallenges,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._issuer = issuer
        self._attempts = LoginAttempts(throttle)
        self._challenges = challenges

    async def execute(self, cmd: AuthenticateUserCommand) -> TokenPair:
        user = await self._find(cmd.login)
        attempt = await self._attempts.begin(account_key(user, cmd.login), cmd.client_address)
        # From here on every way out but a success leaves the reservation counted as a failure.
        if user is None:
            await self._hasher.verify_dummy(cmd.password)
            raise InvalidCredentials
        if not await self._hasher.verify(user.hashed_password, cmd.password):
            raise InvalidCredentials
        if not user.is_active:
            raise InvalidCredentials
        if user.mfa_enabled:
            await self._challenge(user)
        await attempt.succeeded()
        return await self._log_in(user, cmd.password)

    async def _challenge(self, user: User) -> None:
        """Raise ``MfaRequired`` when the user's second factor is on."""
        async with self._uow:
            mfa = await self._uow.repository(MfaRepository).get(user.id)
        if mfa is not None and mfa.enabled:
            raise MfaRequired(
                self._challenges.issue(
                    MfaChallenge(
                        user_id=user.id,
                        credentials_version=user.credentials_version,
                        generation=mfa.generation,
                        issued_at=self._issuer.clock(),
                    )
                )
            )

    async def _log_in(self, user: User, password: str) -> TokenPair:
        # Hash before the transaction opens: the CPU work must not hold a connection.
        new_hash = None
        if self._hasher.needs_rehash(user.hashed_password):
            new_hash = await self._hasher.hash(password)
        async with self._uow:
            if new_hash is not None:
                await self._uow.repository(UserRepository).set_password_hash(user.id, new_hash)
            pair = await self._issuer.issue(self._uow, user)
            await self._uow.commit()
        return pair

    async def _find(self, login: str) -> User | None:
        async with self._uow:
            if "@" in login:
                return await self._uow.repository(UserRepository).get_by_email(login)
            return await self._uow.repository(UserRepository).get_by_username(login)
