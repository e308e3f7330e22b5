"""The composition root: the one place that decides which adapter serves which port.

Tests swap adapters with ``container.<provider>.override(...)``.

The engine is a ``Singleton`` disposed by the app's lifespan (and the CLI), not a ``Resource``:
an async ``Resource`` turns every provider that depends on it into an awaitable, so each request
would build its use case through a future (see docs/decisions/0004-dependency-injection.md).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.argon2_hasher import Argon2PasswordHasher
from adapters.fernet_secrets import FernetSecretBox
from adapters.jwt_tokens import JwtMfaChallenges, JwtTokenService
from adapters.limits_throttle import LimitsThrottle, storage_for
from adapters.nats_events import NatsJetStreamPublisher, StreamOptions
from adapters.notifiers import LoggingNotifier, SmtpNotifier
from adapters.pyotp_totp import PyotpTotp
from adapters.sqlalchemy.database import SqlAlchemyDatabase, fair_admission
from adapters.sqlalchemy.engine import create_engine
from adapters.sqlalchemy.health import SqlAlchemyDatabaseProbe
from adapters.sqlalchemy.queries import (
    SqlAlchemyItemQueries,
    SqlAlchemySessionQueries,
    SqlAlchemyUserQueries,
)
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.zxcvbn_passwords import ZxcvbnCommonPasswords
from application.account_emails import AccountEmails
from application.add_item_to_user import AddItemToUser
from application.authenticate_user import AuthenticateUser
from application.change_password import ChangePassword
from application.check_readiness import CheckReadiness
from application.clock import utc_now
from application.complete_mfa_login import CompleteMfaLogin
from application.create_user import CreateUser
from application.deactivate_user import DeactivateUser
from application.delete_account import DeleteAccount
from application.delete_item import DeleteItem
from application.deliver_outbox_messages import DeliverOutboxMessages
from application.disable_second_factor import DisableSecondFactor, ResetSecondFactor
from application.end_sessions import EndAllSessions, EndSession
from application.enrol_totp import ConfirmTotpEnrolment, StartTotpEnrolment
from application.events import Events
from application.export_account import ExportAccount
from application.get_current_user import GetCurrentUser
from application.get_item import GetItem
from application.get_user import GetUser
from application.list_all_users import ListAllUsers
from application.list_items import ListItems
from application.list_sessions import ListSessions
from application.list_user_items import ListUserItems
from application.list_users import ListUsers
from application.log_out import LogOut
from application.manage_outbox import (
    CountOutboxMessages,
    ListOutboxMessages,
    MeasureEventLag,
    PruneOutbox,
    RequeueOutboxMessage,
)
from application.manage_user import ManageUser
from application.password_policy import PasswordPolicy
from application.password_reset import ConfirmPasswordReset, RequestPasswordReset
from application.ports import EventPublisher, Notifier
from application.publish_events import PublishEvents
from application.refresh_access_token import RefreshAccessToken
from application.regenerate_recovery_codes import RegenerateRecoveryCodes
from application.second_factor import SecondFactor
from application.throttles import AccountThrottles
from application.token_pairs import TokenPairIssuer
from application.update_item import UpdateItem
from application.update_profile import UpdateProfile
from application.verify_email import ResendVerificationEmail, VerifyEmail
from entrypoints.http.cursors import CursorCodec
from entrypoints.settings import Settings


def build_notifier(settings: Settings) -> Notifier:
    """SMTP when ``SMTP_URL`` is set, else the log."""
    if settings.smtp_url:
        return SmtpNotifier(
            settings.smtp_url, settings.mail_from, timeout_seconds=settings.smtp_timeout_seconds
        )
    return LoggingNotifier()


def build_event_publisher(settings: Settings) -> EventPublisher:
    """NATS JetStream at ``EVENTS_NATS_URL`` (the worker only builds it when the URL is set)."""
    if not settings.events_nats_url:
        raise ValueError("EVENTS_NATS_URL is not set: there is no event broker")
    return NatsJetStreamPublisher(
        settings.events_nats_url,
        StreamOptions(
            name=settings.events_stream,
            subject_prefix=settings.events_subject_prefix,
            max_age_seconds=settings.events_stream_max_age_days * 86400,
            duplicate_window_seconds=settings.events_duplicate_window_seconds,
        ),
        timeout_seconds=settings.events_publish_timeout_seconds,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings)

    # Adapters
    engine = providers.Singleton(
        create_engine,
        url=settings.provided.database_url,
        pool=settings.provided.pool,
        echo=settings.provided.db_echo,
    )
    database = providers.Singleton(
        SqlAlchemyDatabase,
        engine=engine,
        admission=providers.Singleton(fair_admission, engine=engine, pool=settings.provided.pool),
    )
    # Writes: one transaction each. Reads: the query ports (docs/decisions/0038).
    uow = providers.Factory(SqlAlchemyUnitOfWork, database=database)
    user_queries = providers.Singleton(SqlAlchemyUserQueries, database=database)
    item_queries = providers.Singleton(SqlAlchemyItemQueries, database=database)
    session_queries = providers.Singleton(SqlAlchemySessionQueries, database=database)
    password_hasher = providers.Singleton(
        Argon2PasswordHasher,
        time_cost=settings.provided.argon2_time_cost,
        memory_cost_kib=settings.provided.argon2_memory_cost_kib,
        parallelism=settings.provided.argon2_parallelism,
        max_concurrency=settings.provided.password_hash_concurrency,
        queue_timeout_seconds=settings.provided.password_hash_queue_timeout_seconds,
    )
    token_service = providers.Singleton(
        JwtTokenService,
        secret=settings.provided.jwt_secret,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        ttl_seconds=settings.provided.access_token_ttl_seconds,
    )
    token_pair_issuer = providers.Singleton(
        TokenPairIssuer,
        tokens=token_service,
        refresh_ttl_seconds=settings.provided.refresh_token_ttl_seconds,
    )
    # Every named limit (failed logins, account emails), in memory or in Redis (decision 0032).
    throttle = providers.Singleton(
        LimitsThrottle,
        storage=providers.Singleton(storage_for, redis_url=settings.provided.redis_url),
        key_prefix=settings.provided.rate_limit_key_prefix,
        rates=settings.provided.throttle_rates,
    )
    account_throttles = providers.Singleton(AccountThrottles, throttle=throttle)
    password_policy = providers.Singleton(
        PasswordPolicy, common_passwords=providers.Singleton(ZxcvbnCommonPasswords)
    )
    account_emails = providers.Singleton(
        AccountEmails,
        verification_ttl_seconds=settings.provided.email_verification_ttl_seconds,
        reset_ttl_seconds=settings.provided.password_reset_ttl_seconds,
    )
    database_probe = providers.Singleton(SqlAlchemyDatabaseProbe, engine=engine)
    cursor_codec = providers.Singleton(CursorCodec, secret=settings.provided.jwt_secret)
    notifier = providers.Singleton(build_notifier, settings=settings)
    # Events are recorded (in the outbox) only when a broker is configured.
    events = providers.Singleton(Events, enabled=settings.provided.events_enabled)
    event_publisher = providers.Singleton(build_event_publisher, settings=settings)
    # The second factor: TOTP codes, secrets encrypted at rest, login challenges. Its clock is
    # a provider so the API tests can move it from one time step to the next.
    mfa_clock = providers.Object(utc_now)
    second_factor = providers.Singleton(
        SecondFactor,
        totp=providers.Singleton(PyotpTotp),
        secret_box=providers.Singleton(FernetSecretBox, keys=settings.provided.mfa_encryption_keys),
        clock=mfa_clock,
    )
    mfa_challenges = providers.Singleton(
        JwtMfaChallenges,
        secret=settings.provided.jwt_secret,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
    )

    # Use cases
    create_user = providers.Factory(
        CreateUser,
        uow=uow,
        hasher=password_hasher,
        policy=password_policy,
        emails=account_emails,
        events=events,
    )
    authenticate_user = providers.Factory(
        AuthenticateUser,
        uow=uow,
        hasher=password_hasher,
        issuer=token_pair_issuer,
        throttle=throttle,
        challenges=mfa_challenges,
    )
    complete_mfa_login = providers.Factory(
        CompleteMfaLogin,
        uow=uow,
        second_factor=second_factor,
        challenges=mfa_challenges,
        issuer=token_pair_issuer,
        throttle=throttle,
        emails=account_emails,
    )
    refresh_access_token = providers.Factory(RefreshAccessToken, uow=uow, issuer=token_pair_issuer)
    log_out = providers.Factory(LogOut, uow=uow)
    deactivate_user = providers.Factory(DeactivateUser, uow=uow, events=events)
    get_user = providers.Factory(GetUser, users=user_queries)
    get_current_user = providers.Factory(GetCurrentUser, users=user_queries, tokens=token_service)
    list_users = providers.Factory(ListUsers, users=user_queries)
    add_item_to_user = providers.Factory(AddItemToUser, uow=uow, events=events)
    list_user_items = providers.Factory(ListUserItems, users=user_queries, items=item_queries)
    list_items = providers.Factory(ListItems, items=item_queries)
    get_item = providers.Factory(GetItem, items=item_queries)
    update_item = providers.Factory(UpdateItem, uow=uow, events=events)
    delete_item = providers.Factory(DeleteItem, uow=uow, events=events)

    # Accounts
    verify_email = providers.Factory(VerifyEmail, uow=uow, emails=account_emails, events=events)
    resend_verification_email = providers.Factory(
        ResendVerificationEmail, uow=uow, emails=account_emails, throttles=account_throttles
    )
    request_password_reset = providers.Factory(
        RequestPasswordReset, uow=uow, emails=account_emails, throttles=account_throttles
    )
    confirm_password_reset = providers.Factory(
        ConfirmPasswordReset,
        uow=uow,
        hasher=password_hasher,
        policy=password_policy,
        emails=account_emails,
        events=events,
    )
    change_password = providers.Factory(
        ChangePassword,
        uow=uow,
        hasher=password_hasher,
        policy=password_policy,
        emails=account_emails,
        throttles=account_throttles,
        events=events,
    )
    update_profile = providers.Factory(
        UpdateProfile,
        uow=uow,
        emails=account_emails,
        reauth_max_age_seconds=settings.provided.reauth_max_age_seconds,
        events=events,
    )
    delete_account = providers.Factory(
        DeleteAccount,
        uow=uow,
        reauth_max_age_seconds=settings.provided.reauth_max_age_seconds,
        events=events,
    )
    end_session = providers.Factory(EndSession, uow=uow)
    end_all_sessions = providers.Factory(EndAllSessions, uow=uow)
    manage_user = providers.Factory(
        ManageUser,
        uow=uow,
        events=events,
        admin_mfa_required=settings.provided.effective_admin_mfa_required,
    )
    list_sessions = providers.Factory(ListSessions, sessions=session_queries)
    export_account = providers.Factory(ExportAccount, items=item_queries, sessions=list_sessions)
    list_all_users = providers.Factory(
        ListAllUsers,
        users=user_queries,
        admin_mfa_required=settings.provided.effective_admin_mfa_required,
    )

    # The second factor
    start_totp_enrolment = providers.Factory(
        StartTotpEnrolment,
        uow=uow,
        second_factor=second_factor,
        reauth_max_age_seconds=settings.provided.reauth_max_age_seconds,
    )
    confirm_totp_enrolment = providers.Factory(
        ConfirmTotpEnrolment,
        uow=uow,
        second_factor=second_factor,
        emails=account_emails,
        events=events,
    )
    disable_second_factor = providers.Factory(
        DisableSecondFactor,
        uow=uow,
        second_factor=second_factor,
        emails=account_emails,
        throttles=account_throttles,
        reauth_max_age_seconds=settings.provided.reauth_max_age_seconds,
        events=events,
    )
    regenerate_recovery_codes = providers.Factory(
        RegenerateRecoveryCodes,
        uow=uow,
        second_factor=second_factor,
        emails=account_emails,
        throttles=account_throttles,
        reauth_max_age_seconds=settings.provided.reauth_max_age_seconds,
    )
    reset_second_factor = providers.Factory(
        ResetSecondFactor, uow=uow, emails=account_emails, events=events
    )

    check_readiness = providers.Factory(
        CheckReadiness, probes=providers.Dict(database=database_probe)
    )

    # The outbox worker and its operator commands
    deliver_outbox_messages = providers.Factory(
        DeliverOutboxMessages,
        uow=uow,
        notifier=notifier,
        policy=settings.provided.retry_policy,
        app_base_url=settings.provided.app_base_url,
        batch_size=settings.provided.outbox_batch_size,
        lease_seconds=settings.provided.outbox_lease_seconds,
    )
    publish_events = providers.Factory(
        PublishEvents,
        uow=uow,
        publisher=event_publisher,
        policy=settings.provided.events_retry_policy,
        source=settings.provided.events_source,
        batch_size=settings.provided.events_batch_size,
        lease_seconds=settings.provided.outbox_lease_seconds,
    )
    list_outbox_messages = providers.Factory(ListOutboxMessages, uow=uow)
    count_outbox_messages = providers.Factory(CountOutboxMessages, uow=uow)
    measure_event_lag = providers.Factory(MeasureEventLag, uow=uow)
    requeue_outbox_message = providers.Factory(RequeueOutboxMessage, uow=uow)
    prune_outbox = providers.Factory(
        PruneOutbox, uow=uow, retention=settings.provided.outbox_retention
    )
