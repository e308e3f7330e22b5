"""RefreshAccessToken: spend a refresh token for a new pair of the same family."""

from __future__ import annotations

from typing import ClassVar

from application.errors import ApplicationError, InvalidRefreshToken
from application.ports import RefreshTokenRepository, UnitOfWork, UserRepository
from application.token_pairs import TokenPair, TokenPairIssuer, hash_refresh_token


class RefreshAccessToken:
    """Single use with reuse detection (RFC 9700 section 4.14.2).

    The spend is the transaction's first statement, a conditional UPDATE (unspent, unrevoked,
    unexpired), so of concurrent refreshes with one token exactly one gets the row; the others
    find it spent. Presenting a spent token, whether replayed by a thief or by a client that lost
    a race, revokes the whole family: the thief's and the victim's tokens alike, so the victim
    logs in again and the thief is out.
    """

    raises: ClassVar[tuple[type[ApplicationError], ...]] = (InvalidRefreshToken,)

    def __init__(self, uow: UnitOfWork, issuer: TokenPairIssuer) -> None:
        self._uow = uow
        self._issuer = issuer

    async def execute(self, refresh_token: str) -> TokenPair:
        token_hash = hash_refresh_token(refresh_token)
        now = self._issuer.clock()
        async with self._uow:
            spent = await self._uow.repository(RefreshTokenRepository).spend(token_hash, now)
            if spent is None:
                stored = await self._uow.repository(RefreshTokenRepository).get(token_hash)
                if stored is not None and stored.spent_at is not None:
                    await self._uow.repository(RefreshTokenRepository).revoke_family(
                        stored.family_id, now
                    )
                    await self._uow.commit()
                raise InvalidRefreshToken
            user = await self._uow.repository(UserRepository).get(spent.user_id)
            # A family from before the user's credentials changed is void, even if it escaped
            # the revocation (a login that raced with the change).
            if (
                user is None
                or not user.is_active
                or user.credentials_version != spent.credentials_version
            ):
                await self._uow.repository(RefreshTokenRepository).revoke_family(
                    spent.family_id, now
                )
                await self._uow.commit()
                raise InvalidRefreshToken
            pair = await self._issuer.issue(self._uow, user, spent)
            await self._uow.commit()
        return pair
