"""The second factor on the in-memory adapters, with an injected clock: enrolment, the login
challenge, each time-step edge, replays, recovery codes, the mfa_token's life, throttling,
step-up, disabling, regeneration, the admin rule and the operator's reset. End state is
asserted: what the store holds, which emails were queued, which tokens the login gave."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.fernet import Fernet

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.fernet_secrets import FernetSecretBox, SecretUnreadable, parse_keys
from adapters.jwt_tokens import JwtTokenService
from adapters.limits_throttle import LimitsThrottle
from adapters.memory import InMemoryDatabase, InMemoryUnitOfWork
from adapters.pyotp_totp import PyotpTotp
from application.account_emails import AccountEmails
from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
from application.complete_mfa_login import CompleteMfaLogin, CompleteMfaLoginCommand
from application.delete_account import DeleteAccount
from application.disable_second_factor import (
    DisableSecondFactor,
    ResetSecondFactor,
    SecondFactorProof,
)
from application.enrol_totp import ConfirmTotpEnrolment, StartTotpEnrolment
from application.errors import (
    AdminMfaRequired,
    InvalidCredentials,
    InvalidMfaToken,
    InvalidRefreshToken,
    MfaAlreadyEnabled,
    MfaEnrolmentNotStarted,
    MfaNotEnabled,
    MfaRequired,
    NotAdmin,
    ReauthenticationRequired,
    Throttled,
    UsernameNotFound,
    WrongMfaCode,
    WrongMfaLoginCode,
)
from application.events import USER_MFA_DISABLED, USER_MFA_ENABLED, Events
from application.get_current_user import Caller
from application.list_all_users import ListAllUsers
from application.manage_user import ManageUser, ManageUserCommand
from application.pagination import PageRequest
from application.ports import (
    AccessClaims,
    OutboxDestination,
    RefreshTokenRepository,
    UserRepository,
)
from application.ports.second_factor import MfaChallenge, MfaRepository
from application.refresh_access_token import RefreshAccessToken
from application.regenerate_recovery_codes import RegenerateRecoveryCodes
from application.second_factor import (
    MFA_DISABLED,
    MFA_ENABLED,
    MFA_RECOVERY_CODE_USED,
    MFA_RECOVERY_CODES_REGENERATED,
    RECOVERY_CODE_COUNT,
    SecondFactor,
    hash_recovery_code,
    new_recovery_codes,
)
from application.throttles import AccountThrottles
from application.token_pairs import PASSWORD_AND_OTP, TokenPair
from domain.user import User
from tests.unit.support import (
    MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    add_user,
    make_challenges,
    make_issuer,
    make_throttle,
    stored_user,
)

PASSWORD = "correct horse"
ADDRESS = "203.0.113.7"
STEP = 30
# The first second of a time step: step 59_000_000 starts at 1_770_000_000.
START = datetime.fromtimestamp(59_000_000 * STEP, UTC)
REAUTH = 300


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingTotp(PyotpTotp):
    """The real TOTP adapter, counting the codes it checks."""

    def __init__(self) -> None:
        self.checks = 0

    def matching_steps(self, secret: str, code: str, at: datetime) -> Sequence[int]:
        self.checks += 1
        return super().matching_steps(secret, code, at)


@dataclass
class World:
    db: InMemoryDatabase
    hasher: Argon2PasswordHasher
    tokens: JwtTokenService
    clock: Clock
    totp: CountingTotp
    box: FernetSecretBox
    throttle: LimitsThrottle
    second_factor: SecondFactor
    emails: AccountEmails
    addresses: int = 0
    address: str = ADDRESS

    def next_address(self) -> str:
        """A new client address: successes count toward the per-address limit too, so
        tests that log in many times do so from many addresses."""
        self.addresses += 1
        self.address = f"192.0.2.{self.addresses}"
        return self.address

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db)

    def start(self) -> StartTotpEnrolment:
        return StartTotpEnrolment(self.uow(), self.second_factor, REAUTH)

    def confirm(self) -> ConfirmTotpEnrolment:
        return ConfirmTotpEnrolment(self.uow(), self.second_factor, self.emails)

    def authenticate(self) -> AuthenticateUser:
        return AuthenticateUser(
            self.uow(),
            self.hasher,
            make_issuer(self.tokens, self.clock),
            self.throttle,
            make_challenges(),
        )

    def complete(self) -> CompleteMfaLogin:
        return CompleteMfaLogin(
            self.uow(),
            self.second_factor,
            make_challenges(),
            make_issuer(self.tokens, self.clock),
            self.throttle,
            self.emails,
        )

    def disable(self) -> DisableSecondFactor:
        return DisableSecondFactor(
            self.uow(), self.second_factor, self.emails, AccountThrottles(self.throttle), REAUTH
        )

    def regenerate(self) -> RegenerateRecoveryCodes:
        return RegenerateRecoveryCodes(
            self.uow(), self.second_factor, self.emails, AccountThrottles(self.throttle), REAUTH
        )

    def code(self, secret: str, steps_ahead: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.clock() + timedelta(seconds=steps_ahead * STEP))

    def events(self) -> list[str]:
        return [message.event_type for message in self.db.state.outbox.values()]


@pytest.fixture
def world(db: InMemoryDatabase, hasher: Argon2PasswordHasher, tokens: JwtTokenService) -> World:
    clock = Clock()
    totp = CountingTotp()
    box = FernetSecretBox([Fernet.generate_key().decode()])
    return World(
        db=db,
        hasher=hasher,
        tokens=tokens,
        clock=clock,
        totp=totp,
        box=box,
        throttle=make_throttle(),
        second_factor=SecondFactor(totp, box, clock),
        emails=AccountEmails(verification_ttl_seconds=3600, reset_ttl_seconds=3600, clock=clock),
    )


def caller(
    user: User, auth_time: datetime, amr: tuple[str, ...] = ("pwd",), session: str = "s" * 32
) -> Caller:
    return Caller(
        user=user,
        claims=AccessClaims(
            user_id=user.id,
            credentials_version=user.credentials_version,
            auth_time=auth_time,
            session_id=session,
            amr=amr,
        ),
    )


async def ada(world: World) -> User:
    return await add_user(world.db, "ada", hashed_password=await world.hasher.hash(PASSWORD))


async def stored_mfa(world: World, user_id: int) -> object:
    async with world.uow() as uow:
        return await uow.repository(MfaRepository).get(user_id)


async def enrolled(world: World) -> tuple[User, str, Sequence[str]]:
    """ada with the second factor on: the user, the secret, the recovery codes. The clock then
    moves to the next step, so the step that confirmed is in the past."""
    user = await ada(world)
    enrolment = await world.start().execute(caller(user, world.clock()))
    codes = await world.confirm().execute(caller(user, world.clock()), world.code(enrolment.secret))
    world.clock.advance(STEP)
    fresh = await stored_user(world.db, user.id)
    assert fresh is not None
    return fresh, enrolment.secret, codes


async def mfa_token(world: World, address: str | None = None) -> str:
    """The password step, from ``address`` (a new one by default), which ``complete`` then
    uses too."""
    world.address = address or world.next_address()
    with pytest.raises(MfaRequired) as raised:
        await world.authenticate().execute(
            AuthenticateUserCommand(login="ada", password=PASSWORD, client_address=world.address)
        )
    return raised.value.mfa_token


async def complete(
    world: World, token: str, code: str | None = None, recovery_code: str | None = None
) -> TokenPair:
    return await world.complete().execute(
        CompleteMfaLoginCommand(
            mfa_token=token, code=code, recovery_code=recovery_code, client_address=world.address
        )
    )


# --- enrolment --------------------------------------------------------------------------------


async def test_starting_gives_a_160_bit_secret_and_its_uri_stored_only_encrypted(
    world: World,
) -> None:
    user = await ada(world)
    enrolment = await world.start().execute(caller(user, world.clock()))
    assert len(enrolment.secret) == 32  # base32: 160 bits
    assert len(base64.b32decode(enrolment.secret)) == 20
    assert enrolment.otpauth_uri.startswith("otpauth://totp/users-items:ada?")
    for part in ("issuer=users-items", "digits=6", "period=30", "algorithm=SHA1"):
        assert part in enrolment.otpauth_uri
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    async with world.uow() as uow:
        stored = await uow.repository(MfaRepository).get(user.id)
    assert stored is not None
    assert not stored.enabled
    assert enrolment.secret not in stored.secret_ciphertext
    assert world.box.open(stored.secret_ciphertext) == enrolment.secret
    assert (await stored_user(world.db, user.id)) == user  # mfa_enabled still false


async def test_starting_again_replaces_the_unconfirmed_secret(world: World) -> None:
    user = await ada(world)
    first = await world.start().execute(caller(user, world.clock()))
    second = await world.start().execute(caller(user, world.clock()))
    assert first.secret != second.secret
    with pytest.raises(WrongMfaCode):
        await world.confirm().execute(caller(user, world.clock()), world.code(first.secret))
    await world.confirm().execute(caller(user, world.clock()), world.code(second.secret))


async def test_starting_needs_a_fresh_login(world: World) -> None:
    user = await ada(world)
    stale = world.clock() - timedelta(seconds=REAUTH + 1)
    with pytest.raises(ReauthenticationRequired):
        await world.start().execute(caller(user, stale))
    assert await stored_mfa(world, user.id) is None
    # At exactly the limit it is still fresh.
    await world.start().execute(caller(user, world.clock() - timedelta(seconds=REAUTH)))


async def test_confirming_turns_it_on_ends_other_sessions_and_queues_a_notice(
    world: World,
) -> None:
    user = await ada(world)
    issuer = make_issuer(world.tokens, world.clock)
    async with world.uow() as uow:
        mine = await issuer.issue(uow, user)
        other = await issuer.issue(uow, user)
        await uow.commit()
    my_session = world.tokens.verify(mine.access_token).session_id
    enrolment = await world.start().execute(caller(user, world.clock(), session=my_session))
    codes = await world.confirm().execute(
        caller(user, world.clock(), session=my_session), world.code(enrolment.secret)
    )
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    stored = await stored_user(world.db, user.id)
    assert stored is not None
    assert stored.mfa_enabled
    refresh = RefreshAccessToken(world.uow(), issuer)
    await refresh.execute(mine.refresh_token)  # the caller's own session goes on
    with pytest.raises(InvalidRefreshToken):
        await refresh.execute(other.refresh_token)
    assert world.events() == [MFA_ENABLED]
    payload = next(iter(world.db.state.outbox.values())).payload
    assert payload == {"user_id": user.id, "email": user.email, "username": user.username}
    async with world.uow() as uow:
        assert await uow.repository(MfaRepository).unused_recovery_codes(user.id) == 10


async def test_confirming_a_wrong_code_or_with_nothing_started_is_refused(world: World) -> None:
    user = await ada(world)
    with pytest.raises(MfaEnrolmentNotStarted):
        await world.confirm().execute(caller(user, world.clock()), "123456")
    enrolment = await world.start().execute(caller(user, world.clock()))
    wrong = f"{(int(world.code(enrolment.secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongMfaCode):
        await world.confirm().execute(caller(user, world.clock()), wrong)
    stored = await stored_user(world.db, user.id)
    assert stored is not None
    assert not stored.mfa_enabled
    assert world.events() == []


async def test_on_already_is_a_conflict_for_starting_and_confirming(world: World) -> None:
    user, secret, _ = await enrolled(world)
    # Even with a password-only token: there is nothing to step up for.
    with pytest.raises(MfaAlreadyEnabled):
        await world.start().execute(caller(user, world.clock()))
    with pytest.raises(MfaAlreadyEnabled):
        await world.confirm().execute(caller(user, world.clock()), world.code(secret))


# --- codes: the window and replays ------------------------------------------------------------


def test_a_code_matches_within_one_step_either_side_and_no_further() -> None:
    totp = PyotpTotp()
    secret = totp.new_secret()
    now_step = 59_000_000
    code_of = {
        step: pyotp.TOTP(secret).at(step * STEP) for step in range(now_step - 2, now_step + 3)
    }
    first_second = datetime.fromtimestamp(now_step * STEP, UTC)
    last_second = first_second + timedelta(seconds=STEP - 1)
    for at in (first_second, last_second):
        for step in (now_step - 1, now_step, now_step + 1):
            assert step in totp.matching_steps(secret, code_of[step], at)
        for step in (now_step - 2, now_step + 2):
            if code_of[step] not in {code_of[s] for s in (now_step - 1, now_step, now_step + 1)}:
                assert totp.matching_steps(secret, code_of[step], at) == []
    # One second before the step begins, the code two steps ahead is out of the window.
    before = first_second - timedelta(seconds=1)
    assert now_step + 1 not in totp.matching_steps(secret, code_of[now_step + 1], before)
    assert now_step - 2 in totp.matching_steps(secret, code_of[now_step - 2], before)


async def test_login_takes_the_previous_the_current_and_the_next_step(world: World) -> None:
    _, secret, _ = await enrolled(world)
    for steps_ahead in (-1, 0, 1):
        world.clock.advance(3 * STEP)  # past every step accepted so far
        pair = await complete(world, await mfa_token(world), code=world.code(secret, steps_ahead))
        assert world.tokens.verify(pair.access_token).amr == PASSWORD_AND_OTP
    world.clock.advance(3 * STEP)
    token = await mfa_token(world)
    for steps_ahead in (-2, 2):
        with pytest.raises(WrongMfaLoginCode):
            await complete(world, token, code=world.code(secret, steps_ahead))


async def test_a_code_is_accepted_once_and_an_older_one_never_after(world: World) -> None:
    _, secret, _ = await enrolled(world)
    code = world.code(secret, 1)
    await complete(world, await mfa_token(world), code=code)
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, await mfa_token(world), code=code)  # the same code again
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, await mfa_token(world), code=world.code(secret))  # an older step
    world.clock.advance(STEP)  # the replayed code's step is now "the previous one"
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, await mfa_token(world), code=code)
    world.clock.advance(STEP)
    await complete(world, await mfa_token(world), code=world.code(secret, 1))


async def test_concurrent_replays_of_one_code_let_one_through(world: World) -> None:
    _, secret, _ = await enrolled(world)
    code = world.code(secret)
    tokens = [await mfa_token(world) for _ in range(2)]
    results = await asyncio.gather(
        *(complete(world, token, code=code) for token in tokens), return_exceptions=True
    )
    assert sum(isinstance(result, TokenPair) for result in results) == 1
    # The loser's token named the generation the winner moved on from.
    assert sum(isinstance(result, InvalidMfaToken | WrongMfaLoginCode) for result in results) == 1


# --- the mfa_token ------------------------------------------------------------------------------


async def test_the_password_step_gives_no_tokens_but_a_challenge(world: World) -> None:
    user, _, _ = await enrolled(world)
    token = await mfa_token(world)
    challenge = make_challenges().read(token)
    assert challenge.user_id == user.id
    assert challenge.issued_at == world.clock().replace(microsecond=0)
    async with world.uow() as uow:
        assert await uow.repository(RefreshTokenRepository).get("x") is None
    assert world.db.state.refresh_tokens == {}  # no session was started


async def test_a_wrong_password_is_answered_as_for_anyone(world: World) -> None:
    await enrolled(world)
    with pytest.raises(InvalidCredentials):
        await world.authenticate().execute(
            AuthenticateUserCommand(login="ada", password="wrong horse", client_address=ADDRESS)
        )


async def test_the_mfa_token_survives_a_wrong_code_and_dies_with_the_right_one(
    world: World,
) -> None:
    _, secret, _ = await enrolled(world)
    token = await mfa_token(world)
    right = world.code(secret)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, token, code=wrong)
    pair = await complete(world, token, code=right)
    claims = world.tokens.verify(pair.access_token)
    assert claims.amr == ("pwd", "otp")
    assert claims.auth_time == world.clock().replace(microsecond=0)
    with pytest.raises(InvalidMfaToken):
        await complete(world, token, code=world.code(secret, 1))


async def test_the_mfa_token_works_for_five_minutes(world: World) -> None:
    _, secret, _ = await enrolled(world)
    token = await mfa_token(world)
    world.clock.advance(300)
    await complete(world, token, code=world.code(secret))
    token = await mfa_token(world)
    world.clock.advance(301)
    with pytest.raises(InvalidMfaToken):
        await complete(world, token, code=world.code(secret))


async def test_a_forged_or_foreign_mfa_token_is_refused(world: World) -> None:
    user, secret, _ = await enrolled(world)
    forged = make_challenges(secret="another-secret-that-is-32-bytes-long!!").issue(
        MfaChallenge(user.id, 0, 0, world.clock())
    )
    for token in (
        forged,
        "not-a-token",
        world.tokens.issue(caller(user, world.clock()).claims).token,
    ):
        with pytest.raises(InvalidMfaToken):
            await complete(world, token, code=world.code(secret))


async def test_a_password_change_voids_the_mfa_token(world: World) -> None:
    user, secret, _ = await enrolled(world)
    token = await mfa_token(world)
    async with world.uow() as uow:
        await uow.repository(UserRepository).revoke_credentials(user.id)
        await uow.commit()
    with pytest.raises(InvalidMfaToken):
        await complete(world, token, code=world.code(secret))


async def test_an_mfa_token_from_before_the_second_factor_went_off_is_void(world: World) -> None:
    _, secret, _ = await enrolled(world)
    token = await mfa_token(world)
    await ResetSecondFactor(world.uow(), world.emails).execute("ada")
    with pytest.raises(InvalidMfaToken):
        await complete(world, token, code=world.code(secret))
    # And the password alone logs in again.
    pair = await world.authenticate().execute(
        AuthenticateUserCommand(login="ada", password=PASSWORD, client_address=ADDRESS)
    )
    assert world.tokens.verify(pair.access_token).amr == ("pwd",)


# --- recovery codes -----------------------------------------------------------------------------


async def test_a_recovery_code_works_once_and_queues_a_notice(world: World) -> None:
    user, _, codes = await enrolled(world)
    pair = await complete(world, await mfa_token(world), recovery_code=codes[0].upper())
    assert world.tokens.verify(pair.access_token).amr == PASSWORD_AND_OTP
    assert world.events()[-1] == MFA_RECOVERY_CODE_USED
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, await mfa_token(world), recovery_code=codes[0])
    # Written without hyphens, with look-alike letters: the same code.
    typed = codes[1].replace("-", "").replace("0", "o").replace("1", "l")
    await complete(world, await mfa_token(world), recovery_code=typed)
    async with world.uow() as uow:
        assert await uow.repository(MfaRepository).unused_recovery_codes(user.id) == 8


async def test_recovery_codes_are_stored_only_as_hashes(world: World) -> None:
    user, secret, codes = await enrolled(world)
    rows = world.db.state.table("mfa_recovery_codes").values()
    stored = {row.code_hash for row in rows}
    assert stored == {hash_recovery_code(user.id, code) for code in codes}
    dump = repr(world.db.state)
    for code in codes:
        assert code not in dump
        assert code.replace("-", "") not in dump
    assert secret not in dump
    # Another user's hash of the same code differs: the user id keys it.
    assert hash_recovery_code(user.id, codes[0]) != hash_recovery_code(user.id + 1, codes[0])


# --- throttling -------------------------------------------------------------------------------


async def test_wrong_codes_count_with_wrong_passwords_for_that_account_and_address(
    world: World,
) -> None:
    _, secret, _ = await enrolled(world)
    token = await mfa_token(world, ADDRESS)  # the password step's unit stays counted
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1):
        with pytest.raises(WrongMfaLoginCode):
            await complete(world, token, code=wrong)
    checks = world.totp.checks
    with pytest.raises(Throttled):
        await complete(world, token, code=world.code(secret))
    assert world.totp.checks == checks  # refused before the code was checked
    with pytest.raises(Throttled):
        await world.authenticate().execute(
            AuthenticateUserCommand(login="ada", password=PASSWORD, client_address=ADDRESS)
        )
    # Another address is not affected.
    other = await world.complete().execute(
        CompleteMfaLoginCommand(
            mfa_token=token, code=world.code(secret), client_address="198.51.100.1"
        )
    )
    assert other.access_token


async def test_a_completed_login_gives_back_its_pair_count(world: World) -> None:
    _, secret, _ = await enrolled(world)
    # Each login costs the pair two units (password, code): without the give-back the third
    # would be refused. (Four logins are what the per-address limit of 8 allows.)
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1):
        world.clock.advance(3 * STEP)
        await complete(world, await mfa_token(world, ADDRESS), code=world.code(secret))


async def test_fifty_concurrent_wrong_codes_check_no_more_than_the_limit(world: World) -> None:
    _, secret, _ = await enrolled(world)
    token = await mfa_token(world, ADDRESS)
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    checks = world.totp.checks
    results = await asyncio.gather(
        *(complete(world, token, code=wrong) for _ in range(50)), return_exceptions=True
    )
    assert all(isinstance(r, WrongMfaLoginCode | Throttled) for r in results)
    # The password step holds one unit of the pair's limit.
    assert world.totp.checks - checks == MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1
    assert sum(isinstance(r, Throttled) for r in results) == 50 - (
        MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS - 1
    )


# --- step-up, disabling, regenerating ---------------------------------------------------------


async def test_a_fresh_login_of_an_mfa_user_is_one_that_passed_both(world: World) -> None:
    user, _, _ = await enrolled(world)
    delete = DeleteAccount(world.uow(), REAUTH, world.clock)
    with pytest.raises(ReauthenticationRequired):
        await delete.execute(caller(user, world.clock()))  # password only
    with pytest.raises(ReauthenticationRequired):
        await delete.execute(caller(user, world.clock() - timedelta(seconds=301), PASSWORD_AND_OTP))
    await delete.execute(caller(user, world.clock(), PASSWORD_AND_OTP))
    assert await stored_user(world.db, user.id) is None
    assert world.db.state.table("user_mfa") == {}  # gone with the user
    assert world.db.state.table("mfa_recovery_codes") == {}


async def test_disabling_with_a_code_turns_it_off_and_queues_a_notice(world: World) -> None:
    user, secret, _ = await enrolled(world)
    both = caller(user, world.clock(), PASSWORD_AND_OTP)
    await world.disable().execute(both, SecondFactorProof(code=world.code(secret)))
    stored = await stored_user(world.db, user.id)
    assert stored is not None
    assert not stored.mfa_enabled
    assert await stored_mfa(world, user.id) is None
    assert world.db.state.table("mfa_recovery_codes") == {}
    assert world.events()[-1] == MFA_DISABLED
    pair = await world.authenticate().execute(
        AuthenticateUserCommand(login="ada", password=PASSWORD, client_address=ADDRESS)
    )
    assert pair.access_token


async def test_disabling_with_a_recovery_code(world: World) -> None:
    user, _, codes = await enrolled(world)
    await world.disable().execute(
        caller(user, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(recovery_code=codes[3])
    )
    assert await stored_mfa(world, user.id) is None


async def test_disabling_refuses_a_wrong_code_a_stale_login_and_an_account_without(
    world: World,
) -> None:
    user, secret, _ = await enrolled(world)
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongMfaCode):
        await world.disable().execute(
            caller(user, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(code=wrong)
        )
    with pytest.raises(WrongMfaCode):
        await world.disable().execute(
            caller(user, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(recovery_code="x")
        )
    with pytest.raises(ReauthenticationRequired):
        await world.disable().execute(
            caller(user, world.clock()), SecondFactorProof(code=world.code(secret))
        )
    assert await stored_mfa(world, user.id) is not None
    bob = await add_user(world.db, "bob")
    with pytest.raises(MfaNotEnabled):
        await world.disable().execute(
            caller(bob, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(code="123456")
        )


async def test_wrong_codes_to_disable_count_as_failed_logins(world: World) -> None:
    user, secret, _ = await enrolled(world)
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    both = caller(user, world.clock(), PASSWORD_AND_OTP)
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(WrongMfaCode):
            await world.disable().execute(
                both, SecondFactorProof(code=wrong, client_address=ADDRESS)
            )
    with pytest.raises(Throttled):
        await world.disable().execute(
            both, SecondFactorProof(code=world.code(secret), client_address=ADDRESS)
        )
    assert await stored_mfa(world, user.id) is not None


async def test_regenerating_replaces_the_recovery_codes(world: World) -> None:
    user, secret, old = await enrolled(world)
    both = caller(user, world.clock(), PASSWORD_AND_OTP)
    new = await world.regenerate().execute(both, SecondFactorProof(code=world.code(secret)))
    assert len(new) == 10
    assert not set(new) & set(old)
    assert world.events()[-1] == MFA_RECOVERY_CODES_REGENERATED
    world.clock.advance(STEP)
    with pytest.raises(WrongMfaLoginCode):
        await complete(world, await mfa_token(world), recovery_code=old[0])
    await complete(world, await mfa_token(world), recovery_code=new[0])


async def test_regenerating_refuses_a_wrong_code_a_stale_login_and_an_account_without(
    world: World,
) -> None:
    user, secret, old = await enrolled(world)
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongMfaCode):
        await world.regenerate().execute(
            caller(user, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(code=wrong)
        )
    with pytest.raises(WrongMfaCode):  # a recovery code does not make new ones
        await world.regenerate().execute(
            caller(user, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(recovery_code=old[0])
        )
    with pytest.raises(ReauthenticationRequired):
        await world.regenerate().execute(
            caller(user, world.clock()), SecondFactorProof(code=world.code(secret))
        )
    bob = await add_user(world.db, "bob")
    with pytest.raises(MfaNotEnabled):
        await world.regenerate().execute(
            caller(bob, world.clock(), PASSWORD_AND_OTP), SecondFactorProof(code="123456")
        )
    async with world.uow() as uow:
        assert await uow.repository(MfaRepository).unused_recovery_codes(user.id) == 10


async def test_a_refresh_keeps_the_logins_methods(world: World) -> None:
    _, secret, _ = await enrolled(world)
    pair = await complete(world, await mfa_token(world), code=world.code(secret))
    refreshed = await RefreshAccessToken(
        world.uow(), make_issuer(world.tokens, world.clock)
    ).execute(pair.refresh_token)
    assert world.tokens.verify(refreshed.access_token).amr == PASSWORD_AND_OTP


# --- administrators, the operator ---------------------------------------------------------------


async def test_an_admin_without_the_second_factor_is_refused_when_it_is_required(
    world: World,
) -> None:
    user, _, _ = await enrolled(world)
    async with world.uow() as uow:
        await uow.repository(UserRepository).set_admin(user.id, admin=True)
        await uow.commit()
    admin_with = await stored_user(world.db, user.id)
    bob = await add_user(world.db, "bob")
    async with world.uow() as uow:
        await uow.repository(UserRepository).set_admin(bob.id, admin=True)
        await uow.commit()
    admin_without = await stored_user(world.db, bob.id)
    assert admin_with is not None
    assert admin_without is not None
    from adapters.memory import InMemoryUserQueries

    required = ListAllUsers(InMemoryUserQueries(world.db), admin_mfa_required=True)
    with pytest.raises(AdminMfaRequired):
        await required.execute(admin_without, PageRequest(limit=10))
    assert len((await required.execute(admin_with, PageRequest(limit=10))).items) == 2
    lax = ListAllUsers(InMemoryUserQueries(world.db))
    assert len((await lax.execute(admin_without, PageRequest(limit=10))).items) == 2
    manage = ManageUser(world.uow(), admin_mfa_required=True)
    with pytest.raises(AdminMfaRequired):
        await manage.execute(ManageUserCommand(actor=admin_without, user_id=user.id, is_admin=True))
    with pytest.raises(NotAdmin):  # not an admin at all: the older answer
        await ListAllUsers(InMemoryUserQueries(world.db), admin_mfa_required=True).execute(
            await add_user(world.db, "carol"), PageRequest(limit=10)
        )
    # The operator's command line is not asked for a second factor.
    await ManageUser(world.uow(), admin_mfa_required=True).execute(
        ManageUserCommand(actor=None, username="bob", is_admin=False)
    )


async def test_the_operator_resets_the_second_factor(world: World) -> None:
    user, _, _ = await enrolled(world)
    reset = ResetSecondFactor(world.uow(), world.emails)
    assert (await reset.execute("ADA")).id == user.id
    stored = await stored_user(world.db, user.id)
    assert stored is not None
    assert not stored.mfa_enabled
    assert world.events()[-1] == MFA_DISABLED
    with pytest.raises(MfaNotEnabled):
        await ResetSecondFactor(world.uow(), world.emails).execute("ada")
    with pytest.raises(UsernameNotFound):
        await ResetSecondFactor(world.uow(), world.emails).execute("nobody")


# --- secrets at rest ----------------------------------------------------------------------------


def test_an_old_key_still_decrypts_while_the_new_one_encrypts() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_before = FernetSecretBox([old]).seal("JBSWY3DPEHPK3PXP")
    rotated = FernetSecretBox(parse_keys(f"{new}, {old}"))
    assert rotated.open(sealed_before) == "JBSWY3DPEHPK3PXP"
    sealed_after = rotated.seal("JBSWY3DPEHPK3PXP")
    assert FernetSecretBox([new]).open(sealed_after) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SecretUnreadable):
        FernetSecretBox([old]).open(sealed_after)
    assert FernetSecretBox([new]).open(rotated.rotate(sealed_before)) == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize("keys", ["", " , ", "not-a-key", f"{'A' * 44},x"])
def test_a_key_that_is_not_a_fernet_key_is_refused(keys: str) -> None:
    with pytest.raises(ValueError, match="MFA_ENCRYPTION_KEY"):
        parse_keys(keys)


# --- what mutation testing asked for --------------------------------------------------------------


async def test_the_mfa_token_of_a_deactivated_user_is_refused(world: World) -> None:
    user, secret, _ = await enrolled(world)
    token = await mfa_token(world)
    async with world.uow() as uow:
        await uow.repository(UserRepository).set_active(user.id, active=False)
        await uow.commit()
    with pytest.raises(InvalidMfaToken):
        await complete(world, token, code=world.code(secret))


async def test_an_mfa_token_from_the_future_is_refused_past_the_clock_skew(world: World) -> None:
    user, secret, _ = await enrolled(world)
    challenges = make_challenges()
    ahead = challenges.issue(MfaChallenge(user.id, 0, 0, world.clock() + timedelta(seconds=10)))
    world.address = world.next_address()
    await complete(world, ahead, code=world.code(secret))  # within the skew
    world.clock.advance(3 * STEP)
    too_far = challenges.issue(MfaChallenge(user.id, 0, 1, world.clock() + timedelta(seconds=11)))
    with pytest.raises(InvalidMfaToken):
        await complete(world, too_far, code=world.code(secret))


@pytest.mark.parametrize("change", ["disable", "regenerate"])
async def test_wrong_codes_for_a_change_lock_the_login_of_that_account_too(
    world: World, change: str
) -> None:
    user, secret, _ = await enrolled(world)
    wrong = f"{(int(world.code(secret)) + 1) % 1_000_000:06d}"
    both = caller(user, world.clock(), PASSWORD_AND_OTP)
    use_case = world.disable if change == "disable" else world.regenerate
    for _ in range(MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS):
        with pytest.raises(WrongMfaCode):
            await use_case().execute(both, SecondFactorProof(code=wrong, client_address=ADDRESS))
    with pytest.raises(Throttled):
        await world.authenticate().execute(
            AuthenticateUserCommand(login="ada", password=PASSWORD, client_address=ADDRESS)
        )


async def test_no_code_at_all_is_never_accepted(world: World) -> None:
    user, _, _ = await enrolled(world)
    async with world.uow() as uow:
        mfa = await uow.repository(MfaRepository).get(user.id)
        assert mfa is not None
        assert not await world.second_factor.accept_either(uow, mfa, None, None)


async def test_a_recovery_code_typed_with_spaces_is_the_same_code(world: World) -> None:
    _, _, codes = await enrolled(world)
    spaced = " ".join(codes[2].split("-"))
    pair = await complete(world, await mfa_token(world), recovery_code=spaced)
    assert pair.access_token


def test_recovery_codes_are_four_groups_of_four_crockford_characters() -> None:
    codes = new_recovery_codes()
    assert len(codes) == 10
    for code in codes:
        assert re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}", code), code


def test_a_recovery_code_is_read_whatever_its_case_and_look_alike_letters() -> None:
    stored = hash_recovery_code(7, "0011-abcd-efgh-jkmn")
    for typed in ("0011-ABCD-EFGH-JKMN", "OOlI abcd efgh jkmn", "ooLi-ABCDefgh-jkmn"):
        assert hash_recovery_code(7, typed) == stored, typed
    assert hash_recovery_code(7, "0011-abcd-efgh-jkmp") != stored


def test_a_recovery_code_shows_all_its_16_random_characters_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn = iter("0123456789abcdefghjkmnpqrstvwxyz" * 5)
    monkeypatch.setattr("application.second_factor.secrets.choice", lambda _alphabet: next(drawn))
    assert new_recovery_codes()[:2] == ["0123-4567-89ab-cdef", "ghjk-mnpq-rstv-wxyz"]


# --- events (with EVENTS_NATS_URL set) ----------------------------------------------------------


async def test_turning_it_on_and_off_records_events_with_the_user_id_alone(world: World) -> None:
    events = Events(enabled=True, clock=world.clock)
    user = await ada(world)
    enrolment = await world.start().execute(caller(user, world.clock()))
    confirm = ConfirmTotpEnrolment(world.uow(), world.second_factor, world.emails, events)
    await confirm.execute(caller(user, world.clock()), world.code(enrolment.secret))
    world.clock.advance(STEP)
    on = await stored_user(world.db, user.id)
    assert on is not None
    disable = DisableSecondFactor(
        world.uow(),
        world.second_factor,
        world.emails,
        AccountThrottles(world.throttle),
        REAUTH,
        events,
    )
    await disable.execute(
        caller(on, world.clock(), PASSWORD_AND_OTP),
        SecondFactorProof(code=world.code(enrolment.secret)),
    )
    world.clock.advance(STEP)
    off = await stored_user(world.db, user.id)
    assert off is not None
    again = await world.start().execute(caller(off, world.clock()))
    await confirm.execute(caller(off, world.clock()), world.code(again.secret))
    await ResetSecondFactor(world.uow(), world.emails, events).execute("ada")

    recorded = [
        (m.event_type, dict(m.payload), m.ordering_key)
        for m in world.db.state.outbox.values()
        if m.destination is OutboxDestination.EVENTS
    ]
    only_the_user = {"user_id": user.id}
    assert recorded == [
        (USER_MFA_ENABLED.name, only_the_user, str(user.id)),
        (USER_MFA_DISABLED.name, only_the_user, str(user.id)),
        (USER_MFA_ENABLED.name, only_the_user, str(user.id)),
        (USER_MFA_DISABLED.name, only_the_user, str(user.id)),
    ]


async def test_with_events_off_the_second_factor_records_none(world: World) -> None:
    await enrolled(world)
    await ResetSecondFactor(world.uow(), world.emails).execute("ada")
    assert not [
        m for m in world.db.state.outbox.values() if m.destination is OutboxDestination.EVENTS
    ]
