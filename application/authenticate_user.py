"""AuthenticateUser: exchange a username (or email) and password for a token pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from application.errors import InvalidCredentials
from application.ports import LoginThrottle, PasswordHasher, UnitOfWork
from application.throttles import login_account_key
from application.token_pairs import TokenPair, TokenPairIssuer
from domain.user import User, email_key


@dataclass(frozen=True, slots=True)
class AuthenticateUserCommand:
    login: str  # a username, or an email address when it contains "@"
    password: str
    client_address: str | None = None


class AuthenticateUser:
    """Every failure raises the same ``InvalidCredentials`` after the same amount of hashing
    work, so neither the answer nor its timing tells whether an account exists.

    The throttle is consulted before any hashing: past the limit, ``LoginThrottled`` costs one
    indexed look-up and no argon2 work. Failures are counted per account (its id when it exists,
    so alternating username and email does not double the allowance) and per client address;
    a success clears the account's count. A successful login whose stored hash was made with
    other argon2 parameters stores a fresh hash made with the current ones.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        issuer: TokenPairIssuer,
        throttle: LoginThrottle,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._issuer = issuer
        self._throttle = throttle

    async def execute(self, cmd: AuthenticateUserCommand) -> TokenPair:
        user = await self._find(cmd.login)
        account = (
            login_account_key(user.id) if user is not None else f"login:{email_key(cmd.login)}"
        )
        await self._throttle.check(account, cmd.client_address)
        if user is None:
            await self._hasher.verify_dummy(cmd.password)
            await self._fail(account, cmd.client_address)
        if not await self._hasher.verify(user.hashed_password, cmd.password):
            await self._fail(account, cmd.client_address)
        if not user.is_active:
            await self._fail(account, cmd.client_address)
        await self._throttle.record_success(account)
        return await self._log_in(user, cmd.password)

    async def _fail(self, account: str, address: str | None) -> NoReturn:
        await self._throttle.record_failure(account, address)
        raise InvalidCredentials

    async def _log_in(self, user: User, password: str) -> TokenPair:
        # Hash before the transaction opens: the CPU work must not hold a connection.
        new_hash = None
        if self._hasher.needs_rehash(user.hashed_password):
            new_hash = await self._hasher.hash(password)
        async with self._uow:
            if new_hash is not None:
                await self._uow.users.set_password_hash(user.id, new_hash)
            pair = await self._issuer.issue(self._uow, user)
            await self._uow.commit()
        return pair

    async def _find(self, login: str) -> User | None:
        async with self._uow:
            if "@" in login:
                return await self._uow.users.get_by_email(login)
            return await self._uow.users.get_by_username(login)
