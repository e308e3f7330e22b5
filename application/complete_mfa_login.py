"""CompleteMfaLogin: the second step of a login with a second factor (``POST /auth/token/mfa``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from application.account_emails import AccountEmails
from application.errors import ApplicationError, InvalidMfaToken, WrongMfaLoginCode
from application.login_attempts import LoginAttempts, user_account_key
from application.ports import Throttle, UnitOfWork, UserRepository
from application.ports.second_factor import MfaChallenges, MfaRepository
from application.second_factor import MFA_RECOVERY_CODE_USED, SecondFactor
from application.token_pairs import PASSWORD_AND_OTP, TokenPair, TokenPairIssuer

MFA_TOKEN_TTL = timedelta(minutes=5)
_CLOCK_SKEW = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class CompleteMfaLoginCommand:
    mfa_token: str
    code: str | None = None
    recovery_code: str | None = None
    client_address: str | None = None


class CompleteMfaLogin:
    """The ``mfa_token`` from the password step and a code (or a recovery code) give the same
    token pair as ``POST /auth/token``, with ``amr`` ``["pwd", "otp"]``.

    The token works for 5 minutes and until a code is accepted with it: it names the user's
    second-factor generation, which moves on (a conditional UPDATE) with every completed
    second-factor login, so of two concurrent completions one wins. A wrong code leaves it
    usable. Each check is a login attempt of that account from that address, reserved before
    the code is checked, so wrong codes and wrong passwords share the login limits and N
    concurrent guesses check at most the limit's worth; a success gives back its pair's count,
    as a password login does.
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidMfaToken, WrongMfaLoginCode)

    def __init__(
        self,
        uow: UnitOfWork,
        second_factor: SecondFactor,
        challenges: MfaChallenges,
        issuer: TokenPairIssuer,
        throttle: Throttle,
        emails: AccountEmails,
    ) -> None:
        self._uow = uow
        self._second_factor = second_factor
        self._challenges = challenges
        self._issuer = issuer
        self._attempts = LoginAttempts(throttle)
        self._emails = emails

    async def execute(self, cmd: CompleteMfaLoginCommand) -> TokenPair:
        challenge = self._challenges.read(cmd.mfa_token)
        now = self._second_factor.clock()
        if now - challenge.issued_at > MFA_TOKEN_TTL or challenge.issued_at - now > _CLOCK_SKEW:
            raise InvalidMfaToken
        attempt = await self._attempts.begin(
            user_account_key(challenge.user_id), cmd.client_address
        )
        # From here on every way out but a success leaves the reservation counted as a failure.
        async with self._uow:
            user = await self._uow.repository(UserRepository).get(challenge.user_id)
            if (
                user is None
                or not user.is_active
                or user.credentials_version != challenge.credentials_version
            ):
                raise InvalidMfaToken
            mfa = await self._uow.repository(MfaRepository).get(user.id)
            if mfa is None or not mfa.enabled or mfa.generation != challenge.generation:
                raise InvalidMfaToken
            if not await self._second_factor.accept_either(
                self._uow, mfa, cmd.code, cmd.recovery_code
            ):
                raise WrongMfaLoginCode
            if not await self._uow.repository(MfaRepository).advance_generation(
                user.id, challenge.generation
            ):
                raise InvalidMfaToken  # a concurrent completion with the same token won
            if cmd.code is None:
                await self._emails.queue(self._uow, MFA_RECOVERY_CODE_USED, user)
            pair = await self._issuer.issue(self._uow, user, amr=PASSWORD_AND_OTP)
            await self._uow.commit()
        await attempt.succeeded()
        return pair
