"""The account use cases on the in-memory adapters: verification, reset, password change,
profile, deletion, sessions, export and administration. End state is asserted: what the store
holds, which emails were queued, which credentials still work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.jwt_tokens import JwtTokenService
from adapters.memory import (
    InMemoryDatabase,
    InMemoryItemQueries,
    InMemorySessionQueries,
    InMemoryUnitOfWork,
    InMemoryUserQueries,
)
from adapters.memory.common_passwords import InMemoryCommonPasswords
from application.account_emails import AccountEmails
from application.change_password import ChangePassword, ChangePasswordCommand
from application.delete_account import DeleteAccount
from application.end_sessions import EndAllSessions, EndSession
from application.errors import (
    EmailAlreadyVerified,
    InvalidAccountToken,
    InvalidRefreshToken,
    LastActiveAdmin,
    NotAdmin,
    NotAuthenticated,
    PasswordRejected,
    ReauthenticationRequired,
    SessionNotFound,
    Throttled,
    UserAlreadyExists,
    WrongPassword,
)
from application.export_account import ExportAccount
from application.get_current_user import Caller, GetCurrentUser
from application.list_all_users import ListAllUsers
from application.list_sessions import ListSessions
from application.manage_user import ManageUser, ManageUserCommand
from application.pagination import PageRequest
from application.password_policy import PasswordPolicy
from application.password_reset import (
    ConfirmPasswordReset,
    ConfirmPasswordResetCommand,
    RequestPasswordReset,
    RequestPasswordResetCommand,
)
from application.ports import UserRepository
from application.refresh_access_token import RefreshAccessToken
from application.throttles import AccountThrottles
from application.token_pairs import TokenPair, TokenPairIssuer
from application.update_profile import UpdateProfile, UpdateProfileCommand
from application.verify_email import ResendVerificationEmail, VerifyEmail
from domain.user import User
from tests.unit.support import add_item, add_user, make_issuer, make_throttle, stored_user

PASSWORD = "correct horse"
NEW_PASSWORD = "a new horse battery"
REAUTH_SECONDS = 300


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Accounts:
    """Every account use case over one in-memory store, one clock and real tokens."""

    def __init__(self, db: InMemoryDatabase, hasher: Argon2PasswordHasher, tokens: JwtTokenService):
        self.db, self.hasher, self.tokens = db, hasher, tokens
        self.clock = Clock()
        self.emails = AccountEmails(
            verification_ttl_seconds=48 * 3600, reset_ttl_seconds=3600, clock=self.clock
        )
        self.policy = PasswordPolicy(InMemoryCommonPasswords())
        self.throttles = AccountThrottles(make_throttle())
        self.issuer: TokenPairIssuer = make_issuer(tokens, self.clock)

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db)

    async def user(self, name: str = "ada", *, password: str = PASSWORD) -> User:
        return await add_user(self.db, name, hashed_password=await self.hasher.hash(password))

    async def log_in(self, user: User) -> TokenPair:
        async with self.uow() as uow:
            pair = await self.issuer.issue(uow, user)
            await uow.commit()
        return pair

    async def caller(self, pair: TokenPair) -> Caller:
        return await GetCurrentUser(InMemoryUserQueries(self.db), self.tokens).execute(
            pair.access_token
        )

    def queued(self, event_type: str) -> list[dict[str, object]]:
        return [
            dict(m.payload) for m in self.db.state.outbox.values() if m.event_type == event_type
        ]

    def token_of(self, event_type: str) -> str:
        return str(self.queued(event_type)[-1]["token"])


@pytest.fixture
def accounts(
    db: InMemoryDatabase, hasher: Argon2PasswordHasher, tokens: JwtTokenService
) -> Accounts:
    return Accounts(db, hasher, tokens)


# --- verification ----------------------------------------------------------------------------


async def test_verifying_spends_the_token_and_marks_the_email(accounts: Accounts) -> None:
    ada = await accounts.user()
    resend = ResendVerificationEmail(accounts.uow(), accounts.emails, accounts.throttles)
    await resend.execute(ada)
    token = accounts.token_of("EmailVerificationRequested")

    verified = await VerifyEmail(accounts.uow(), accounts.emails).execute(token)

    assert verified.email_verified
    assert (await stored_user(accounts.db, ada.id)) == verified
    with pytest.raises(InvalidAccountToken):
        await VerifyEmail(accounts.uow(), accounts.emails).execute(token)
    with pytest.raises(EmailAlreadyVerified):
        await resend.execute(verified)


async def test_a_verification_token_expires_after_its_ttl(accounts: Accounts) -> None:
    ada = await accounts.user()
    await ResendVerificationEmail(accounts.uow(), accounts.emails, accounts.throttles).execute(ada)
    accounts.clock.now += timedelta(hours=48)

    with pytest.raises(InvalidAccountToken):
        await VerifyEmail(accounts.uow(), accounts.emails).execute(
            accounts.token_of("EmailVerificationRequested")
        )


async def test_resends_are_limited_per_user(accounts: Accounts) -> None:
    ada = await accounts.user()
    resend = ResendVerificationEmail(accounts.uow(), accounts.emails, accounts.throttles)
    for _ in range(5):
        await resend.execute(ada)

    with pytest.raises(Throttled):
        await resend.execute(ada)
    assert len(accounts.queued("EmailVerificationRequested")) == 5
    assert len(accounts.db.state.table("account_tokens")) == 1  # each new one voided the older


# --- password reset --------------------------------------------------------------------------


async def test_a_reset_request_queues_an_email_only_for_an_active_account(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    await add_user(accounts.db, "bob", is_active=False)
    request = RequestPasswordReset(accounts.uow(), accounts.emails, accounts.throttles)

    for email in ("ADA@example.com", "bob@example.com", "nobody@example.com"):
        await request.execute(RequestPasswordResetCommand(email=email, client_address="10.0.0.1"))

    assert [m["email"] for m in accounts.queued("PasswordResetRequested")] == [ada.email]
    assert accounts.db.commits >= 3


async def test_a_reset_sets_the_password_verifies_the_email_and_revokes_credentials(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    old = await accounts.log_in(ada)
    request = RequestPasswordReset(accounts.uow(), accounts.emails, accounts.throttles)
    await request.execute(RequestPasswordResetCommand(email=ada.email))
    token = accounts.token_of("PasswordResetRequested")
    confirm = ConfirmPasswordReset(
        accounts.uow(), accounts.hasher, accounts.policy, accounts.emails
    )

    with pytest.raises(PasswordRejected) as refused:
        await confirm.execute(ConfirmPasswordResetCommand(token, "my name is ada"))
    assert refused.value.field == "new_password"
    await confirm.execute(ConfirmPasswordResetCommand(token, NEW_PASSWORD))

    stored = await stored_user(accounts.db, ada.id)
    assert stored is not None
    assert await accounts.hasher.verify(stored.hashed_password, NEW_PASSWORD)
    assert (stored.email_verified, stored.credentials_version) == (True, 1)
    with pytest.raises(NotAuthenticated):
        await accounts.caller(old)
    with pytest.raises(InvalidRefreshToken):
        await RefreshAccessToken(accounts.uow(), accounts.issuer).execute(old.refresh_token)
    with pytest.raises(InvalidAccountToken):
        await confirm.execute(ConfirmPasswordResetCommand(token, NEW_PASSWORD + "!"))
    assert (await accounts.caller(await accounts.log_in(stored))).user.id == ada.id


async def test_a_reset_token_expires_after_an_hour(accounts: Accounts) -> None:
    ada = await accounts.user()
    request = RequestPasswordReset(accounts.uow(), accounts.emails, accounts.throttles)
    await request.execute(RequestPasswordResetCommand(email=ada.email))
    accounts.clock.now += timedelta(hours=1)
    confirm = ConfirmPasswordReset(
        accounts.uow(), accounts.hasher, accounts.policy, accounts.emails
    )

    with pytest.raises(InvalidAccountToken):
        await confirm.execute(
            ConfirmPasswordResetCommand(accounts.token_of("PasswordResetRequested"), NEW_PASSWORD)
        )


# --- password change -------------------------------------------------------------------------


async def test_a_password_change_checks_the_current_one_through_the_login_throttle(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    change = ChangePassword(
        accounts.uow(), accounts.hasher, accounts.policy, accounts.emails, accounts.throttles
    )
    wrong = ChangePasswordCommand("wrong horse", NEW_PASSWORD, client_address="10.0.0.1")
    for _ in range(5):
        with pytest.raises(WrongPassword):
            await change.execute(ada, wrong)

    with pytest.raises(Throttled):
        await change.execute(ada, replace(wrong, current_password=PASSWORD))
    assert accounts.queued("PasswordChanged") == []


async def test_a_password_change_stores_the_new_hash_and_revokes_credentials(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    old = await accounts.log_in(ada)
    change = ChangePassword(
        accounts.uow(), accounts.hasher, accounts.policy, accounts.emails, accounts.throttles
    )

    with pytest.raises(PasswordRejected):
        await change.execute(ada, ChangePasswordCommand(PASSWORD, "password"))
    await change.execute(ada, ChangePasswordCommand(PASSWORD, NEW_PASSWORD))

    stored = await stored_user(accounts.db, ada.id)
    assert stored is not None
    assert await accounts.hasher.verify(stored.hashed_password, NEW_PASSWORD)
    assert all(t.revoked_at is not None for t in accounts.db.state.refresh_tokens.values())
    with pytest.raises(NotAuthenticated):
        await accounts.caller(old)
    assert [m["email"] for m in accounts.queued("PasswordChanged")] == [ada.email]


async def test_a_login_racing_a_password_change_gets_nothing_that_survives_it(
    accounts: Accounts,
) -> None:
    """A login that read the user before the change and issued its tokens after it: its
    refresh token was not revoked (it did not exist yet) but carries the old version."""
    ada = await accounts.user()
    async with accounts.uow() as uow:
        await uow.repository(UserRepository).revoke_credentials(ada.id)
        await uow.commit()

    late = await accounts.log_in(ada)  # `ada` is the user as read before the change

    with pytest.raises(NotAuthenticated):
        await accounts.caller(late)
    with pytest.raises(InvalidRefreshToken):
        await RefreshAccessToken(accounts.uow(), accounts.issuer).execute(late.refresh_token)


# --- profile, deletion -----------------------------------------------------------------------


async def test_an_email_change_needs_a_fresh_login_and_notifies_both_addresses(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    await add_user(accounts.db, "bob")
    caller = await accounts.caller(await accounts.log_in(ada))
    update = UpdateProfile(accounts.uow(), accounts.emails, REAUTH_SECONDS)

    with pytest.raises(UserAlreadyExists):
        await update.execute(caller, UpdateProfileCommand(email="BOB@example.com"))
    accounts.clock.now += timedelta(seconds=REAUTH_SECONDS + 1)
    with pytest.raises(ReauthenticationRequired) as stale:
        await update.execute(caller, UpdateProfileCommand(email="new@example.com"))
    assert stale.value.max_age_seconds == REAUTH_SECONDS
    renamed = await update.execute(caller, UpdateProfileCommand(username="ada_l"))  # no step-up
    accounts.clock.now -= timedelta(seconds=REAUTH_SECONDS + 1)
    changed = await update.execute(caller, UpdateProfileCommand(email="new@example.com"))

    assert renamed.username == "ada_l"
    assert (changed.email, changed.email_verified, changed.username) == (
        "new@example.com",
        False,
        "ada_l",
    )
    assert await stored_user(accounts.db, ada.id) == changed
    assert [m["email"] for m in accounts.queued("EmailChanged")] == [ada.email]
    assert [m["email"] for m in accounts.queued("EmailVerificationRequested")] == [
        "new@example.com"
    ]


async def test_the_same_email_in_other_letters_changes_nothing(accounts: Accounts) -> None:
    ada = await accounts.user()
    caller = await accounts.caller(await accounts.log_in(ada))
    accounts.clock.now += timedelta(days=1)  # stale, but no email change: no step-up needed

    same = await UpdateProfile(accounts.uow(), accounts.emails, REAUTH_SECONDS).execute(
        caller, UpdateProfileCommand(email="ADA@example.com")
    )

    assert same == ada
    assert accounts.db.state.outbox == {}


async def test_deleting_an_account_needs_a_fresh_login_and_removes_what_it_owns(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    bob = await accounts.user("bob")
    await add_item(accounts.db, ada.id)
    kept = await add_item(accounts.db, bob.id)
    pair = await accounts.log_in(ada)
    caller = await accounts.caller(pair)
    delete = DeleteAccount(accounts.uow(), REAUTH_SECONDS, accounts.clock)

    accounts.clock.now += timedelta(seconds=REAUTH_SECONDS + 1)
    with pytest.raises(ReauthenticationRequired):
        await delete.execute(caller)
    accounts.clock.now -= timedelta(seconds=REAUTH_SECONDS + 1)
    await delete.execute(caller)

    assert await stored_user(accounts.db, ada.id) is None
    assert list(accounts.db.state.items.values()) == [kept]
    assert [t.user_id for t in accounts.db.state.refresh_tokens.values()] == []
    with pytest.raises(NotAuthenticated):
        await accounts.caller(pair)


# --- sessions and export ---------------------------------------------------------------------


async def test_sessions_are_listed_with_the_current_one_and_ended(accounts: Accounts) -> None:
    ada, bob = await accounts.user(), await accounts.user("bob")
    phone, laptop = await accounts.log_in(ada), await accounts.log_in(ada)
    await accounts.log_in(bob)
    caller = await accounts.caller(laptop)
    list_sessions = ListSessions(InMemorySessionQueries(accounts.db), accounts.clock)

    page = await list_sessions.execute(caller, PageRequest())
    assert [s.current for s in page.items] == [False, True]
    phone_session = page.items[0].id
    with pytest.raises(SessionNotFound):
        await EndSession(accounts.uow(), accounts.clock).execute(bob.id, phone_session)
    await EndSession(accounts.uow(), accounts.clock).execute(ada.id, phone_session)

    assert [s.current for s in (await list_sessions.execute(caller, PageRequest())).items] == [True]
    with pytest.raises(InvalidRefreshToken):
        await RefreshAccessToken(accounts.uow(), accounts.issuer).execute(phone.refresh_token)
    await EndAllSessions(accounts.uow(), accounts.clock).execute(ada.id)
    assert (await list_sessions.execute(caller, PageRequest())).items == []
    with pytest.raises(NotAuthenticated):
        await accounts.caller(laptop)


async def test_the_export_reads_every_item_a_page_at_a_time(accounts: Accounts) -> None:
    ada, bob = await accounts.user(), await accounts.user("bob")
    mine = [await add_item(accounts.db, ada.id, f"Item {n}") for n in range(230)]
    await add_item(accounts.db, bob.id)
    caller = await accounts.caller(await accounts.log_in(ada))
    export = ExportAccount(
        InMemoryItemQueries(accounts.db),
        ListSessions(InMemorySessionQueries(accounts.db), accounts.clock),
    ).execute(caller)

    items = [item async for item in export.items]
    sessions = [session async for session in export.sessions]

    assert export.user == ada
    assert items == mine
    assert [s.current for s in sessions] == [True]


# --- administration --------------------------------------------------------------------------


async def admin(accounts: Accounts, name: str) -> User:
    user = await accounts.user(name)
    async with accounts.uow() as uow:
        await uow.repository(UserRepository).set_admin(user.id, admin=True)
        await uow.commit()
    return replace(user, is_admin=True)


async def test_only_admins_manage_users_and_never_the_last_one(accounts: Accounts) -> None:
    root = await admin(accounts, "root")
    ada = await accounts.user()
    manage = ManageUser(accounts.uow(), accounts.clock)

    with pytest.raises(NotAdmin):
        await manage.execute(ManageUserCommand(actor=ada, user_id=root.id, is_admin=False))
    with pytest.raises(LastActiveAdmin):
        await manage.execute(ManageUserCommand(actor=root, user_id=root.id, is_admin=False))
    with pytest.raises(LastActiveAdmin):
        await manage.execute(ManageUserCommand(actor=root, user_id=root.id, is_active=False))
    promoted = await manage.execute(ManageUserCommand(actor=root, user_id=ada.id, is_admin=True))
    demoted = await manage.execute(
        ManageUserCommand(actor=promoted, user_id=root.id, is_admin=False)
    )

    assert (promoted.is_admin, demoted.is_admin) == (True, False)
    with pytest.raises(NotAdmin):  # root's request looked them up before the demotion
        await manage.execute(ManageUserCommand(actor=root, user_id=ada.id, is_admin=False))
    with pytest.raises(NotAdmin):
        await ListAllUsers(InMemoryUserQueries(accounts.db)).execute(ada, PageRequest())
    listed = await ListAllUsers(InMemoryUserQueries(accounts.db)).execute(promoted, PageRequest())
    assert [u.username for u in listed.items] == ["root", "ada"]


async def test_deactivation_revokes_credentials_and_reactivation_brings_none_back(
    accounts: Accounts,
) -> None:
    root = await admin(accounts, "root")
    ada = await accounts.user()
    pair = await accounts.log_in(ada)
    manage = ManageUser(accounts.uow(), accounts.clock)

    off = await manage.execute(ManageUserCommand(actor=root, user_id=ada.id, is_active=False))
    on = await manage.execute(ManageUserCommand(actor=root, user_id=ada.id, is_active=True))

    assert (off.is_active, on.is_active) == (False, True)
    with pytest.raises(NotAuthenticated):
        await accounts.caller(pair)
    with pytest.raises(InvalidRefreshToken):
        await RefreshAccessToken(accounts.uow(), accounts.issuer).execute(pair.refresh_token)
    stored = await stored_user(accounts.db, ada.id)
    assert stored is not None
    assert (await accounts.caller(await accounts.log_in(stored))).user.is_active


# --- the password policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "allowed"),
    [
        ("correct horse", True),
        ("PassWord", False),  # on the list, in other letters
        ("i-am-ada-lovelace", False),  # the username
        ("the lovelace family", False),  # the email's local part
        ("x" * 7, False),
        ("x" * 128, True),
        ("x" * 129, False),
    ],
)
def test_the_policy(password: str, allowed: bool) -> None:
    policy = PasswordPolicy(InMemoryCommonPasswords(["password"]))

    try:
        policy.check(password, username="Ada", email="LoveLace@example.com")
        refused = False
    except PasswordRejected:
        refused = True

    assert refused is not allowed


def test_a_short_local_part_is_not_checked() -> None:
    PasswordPolicy(InMemoryCommonPasswords()).check(
        "a long passphrase", username="bob", email="a@example.com"
    )


async def test_reset_links_stop_working_when_credentials_or_the_email_change(
    accounts: Accounts,
) -> None:
    ada = await accounts.user()
    request = RequestPasswordReset(accounts.uow(), accounts.emails, accounts.throttles)
    confirm = ConfirmPasswordReset(
        accounts.uow(), accounts.hasher, accounts.policy, accounts.emails
    )
    await request.execute(RequestPasswordResetCommand(email=ada.email))
    before_logout = accounts.token_of("PasswordResetRequested")
    await EndAllSessions(accounts.uow(), accounts.clock).execute(ada.id)
    await request.execute(RequestPasswordResetCommand(email=ada.email))
    before_email_change = accounts.token_of("PasswordResetRequested")
    stored = await stored_user(accounts.db, ada.id)
    assert stored is not None
    caller = await accounts.caller(await accounts.log_in(stored))
    await UpdateProfile(accounts.uow(), accounts.emails, REAUTH_SECONDS).execute(
        caller, UpdateProfileCommand(email="new@example.com")
    )

    for token in (before_logout, before_email_change):
        with pytest.raises(InvalidAccountToken):
            await confirm.execute(ConfirmPasswordResetCommand(token, NEW_PASSWORD))
