"""RegenerateRecoveryCodes: ten new recovery codes; the older ones stop working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from application.account_emails import AccountEmails
from application.credentials import require_fresh_login
from application.disable_second_factor import SecondFactorProof
from application.errors import ApplicationError, MfaNotEnabled, WrongMfaCode
from application.get_current_user import Caller
from application.ports import UnitOfWork
from application.ports.second_factor import MfaRepository
from application.second_factor import MFA_RECOVERY_CODES_REGENERATED, SecondFactor
from application.throttles import AccountThrottles


class RegenerateRecoveryCodes:
    """Needs a fresh login (both factors) and a code from the app; a wrong code counts as a
    failed login, as for ``DisableSecondFactor``. A notice goes to the account's address."""

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (MfaNotEnabled, WrongMfaCode)

    def __init__(
        self,
        uow: UnitOfWork,
        second_factor: SecondFactor,
        emails: AccountEmails,
        throttles: AccountThrottles,
        reauth_max_age_seconds: int,
    ) -> None:
        self._uow = uow
        self._second_factor = second_factor
        self._emails = emails
        self._throttles = throttles
        self._reauth_max_age_seconds = reauth_max_age_seconds

    async def execute(self, caller: Caller, proof: SecondFactorProof) -> Sequence[str]:
        user_id = caller.user.id
        if not caller.user.mfa_enabled:
            raise MfaNotEnabled
        require_fresh_login(
            caller.claims,
            self._second_factor.clock(),
            self._reauth_max_age_seconds,
            mfa_enabled=True,
        )
        attempt = await self._throttles.password_check(user_id, proof.client_address)
        async with self._uow:
            mfa = await self._uow.repository(MfaRepository).get(user_id)
            if mfa is None or not mfa.enabled:
                raise MfaNotEnabled  # turned off since this request looked the caller up
            if proof.code is None or not await self._second_factor.accept_code(
                self._uow, mfa, proof.code
            ):
                raise WrongMfaCode  # the reservation stays counted as a failed login
            codes = await self._second_factor.store_new_recovery_codes(self._uow, user_id)
            await self._emails.queue(self._uow, MFA_RECOVERY_CODES_REGENERATED, caller.user)
            await self._uow.commit()
        await attempt.succeeded()
        return codes
