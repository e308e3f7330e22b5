"""Settings from the environment (pydantic-settings). Every variable is listed in the README."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.argon2_hasher import DEFAULT_PARAMETERS, default_hash_concurrency
from adapters.fernet_secrets import parse_keys
from adapters.limits_throttle import Rate
from adapters.sqlalchemy.engine import DEFAULT_DATABASE_URL, PoolOptions, to_async_url
from application.deliver_outbox_messages import RetryPolicy
from application.login_attempts import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_AND_ADDRESS,
    LOGIN_PER_ADDRESS,
)
from application.throttles import (
    PASSWORD_RESET_PER_CLIENT,
    PASSWORD_RESET_PER_EMAIL,
    VERIFICATION_EMAIL_PER_USER,
)

DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production
MIN_PRODUCTION_SECRET_BYTES = 32
# base64url of b"dev-only-insecure-mfa-key-000000": refused in production.
DEFAULT_MFA_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtbWZhLWtleS0wMDAwMDA="


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


LogFormat = Literal["json", "console"]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = DEFAULT_DATABASE_URL
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_recycle: int = Field(default=1800, description="seconds; -1 disables")
    db_pool_pre_ping: bool = False
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_command_timeout: float = Field(default=10.0, gt=0)
    db_statement_cache_size: int = Field(default=100, ge=0)
    db_echo: bool = False

    # The outbox worker (`users-items worker`) and its notifier.
    smtp_url: str | None = None  # smtp://user:password@host:587; unset: log notifications
    mail_from: str = "users-items <no-reply@users-items.invalid>"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_retry_base_seconds: float = Field(default=2.0, gt=0)
    outbox_retry_max_seconds: float = Field(default=300.0, gt=0)
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_batch_size: int = Field(default=10, ge=1)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    outbox_retention_days: float = Field(default=7.0, gt=0)

    # Events (docs/decisions/0043-0045): recorded and published only with EVENTS_NATS_URL.
    events_nats_url: str | None = Field(
        default=None, description="nats://host:4222; unset: no events recorded or published"
    )
    events_stream: str = Field(default="USERS_ITEMS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    events_subject_prefix: str = Field(
        default="users-items", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    events_source: str = Field(default="/users-items", min_length=1)
    events_stream_max_age_days: float = Field(
        default=7.0, gt=0, description="how long the stream keeps an event (limits retention)"
    )
    events_duplicate_window_seconds: float = Field(default=600.0, gt=0)
    events_publish_timeout_seconds: float = Field(default=5.0, gt=0)
    events_batch_size: int = Field(default=100, ge=1)
    events_linger_seconds: float = Field(
        default=0.05, ge=0, description="after a pass of less than a batch: the wait for more"
    )
    events_retry_base_seconds: float = Field(default=1.0, gt=0)
    events_retry_max_seconds: float = Field(default=30.0, gt=0)
    worker_metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="the worker's own /metrics; unset: none"
    )

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "users-items"
    jwt_audience: str = "users-items"
    access_token_ttl_seconds: int = Field(default=900, ge=1)

    # Security: refresh tokens, login throttling, password hashing.
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, ge=1)
    redis_url: str | None = Field(
        default=None, description="throttle counts in Redis (shared by every process)"
    )
    rate_limit_key_prefix: str = Field(default="users-items", min_length=1)
    # Failed logins (decision 0032): per (account, address) pair, per address, and a
    # much higher per-account ceiling across addresses.
    login_max_failures_per_account_and_address: int = Field(default=5, ge=1)
    login_account_and_address_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_address_window_seconds: int = Field(default=60, ge=1)
    login_max_failures_per_account: int = Field(default=100, ge=1)
    login_account_window_seconds: int = Field(default=900, ge=1)
    # argon2-cffi's defaults: RFC 9106's low-memory profile (t=3, m=64 MiB, p=4).
    argon2_time_cost: int = Field(default=DEFAULT_PARAMETERS.time_cost, ge=1)
    argon2_memory_cost_kib: int = Field(default=DEFAULT_PARAMETERS.memory_cost, ge=8)
    argon2_parallelism: int = Field(default=DEFAULT_PARAMETERS.parallelism, ge=1)
    password_hash_concurrency: int = Field(default_factory=default_hash_concurrency, ge=1)
    password_hash_queue_timeout_seconds: float = Field(default=2.0, gt=0)

    # The HTTP server: slow clients and file descriptors.
    server_header_timeout_seconds: float = Field(default=10.0, gt=0)
    server_max_connections: int = Field(default=1000, ge=1)
    server_keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        description="an idle kept-alive connection is closed after this; behind a proxy, "
        "set it above the proxy's idle timeout for its upstream connections (decision 0062)",
    )

    # Accounts: emails with tokens, step-up, limits on email-sending endpoints.
    app_base_url: str = Field(
        default="http://localhost:3000",
        description="the front end that email links point to (/verify-email, /reset-password)",
    )
    email_verification_ttl_seconds: int = Field(default=48 * 3600, ge=1)
    password_reset_ttl_seconds: int = Field(default=3600, ge=1)
    reauth_max_age_seconds: int = Field(default=300, ge=1)
    password_reset_max_per_email: int = Field(default=5, ge=1)
    password_reset_email_window_seconds: int = Field(default=3600, ge=1)
    password_reset_max_per_client: int = Field(default=30, ge=1)
    password_reset_client_window_seconds: int = Field(default=900, ge=1)
    verification_email_max_per_user: int = Field(default=5, ge=1)
    verification_email_window_seconds: int = Field(default=3600, ge=1)

    # The second factor: the keys its secrets are encrypted with (Fernet; comma-separated,
    # newest first: the first encrypts, all decrypt), and whether admins must have it on.
    mfa_encryption_key: str = DEFAULT_MFA_ENCRYPTION_KEY
    admin_mfa_required: bool | None = Field(
        default=None, description="by default true in production, else false"
    )

    # Logs.
    log_format: LogFormat | None = Field(
        default=None, description="json or console; by default json in production, else console"
    )
    log_level: LogLevel = "INFO"

    @model_validator(mode="after")
    def _check(self) -> Self:
        to_async_url(self.database_url)  # raises a clear ValueError on an unknown scheme
        if self.login_max_failures_per_account < self.login_max_failures_per_account_and_address:
            raise ValueError(
                "LOGIN_MAX_FAILURES_PER_ACCOUNT is the ceiling across every address; it cannot "
                "be below LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"
            )
        if self.events_enabled and (
            self.events_publish_timeout_seconds * 2 >= self.outbox_lease_seconds
        ):
            raise ValueError(
                "EVENTS_PUBLISH_TIMEOUT_SECONDS must be under half of OUTBOX_LEASE_SECONDS: an "
                "event is only started while half its lease remains"
            )
        if not self.app_base_url.startswith(("http://", "https://")):
            raise ValueError("APP_BASE_URL must be an http:// or https:// URL")
        parse_keys(self.mfa_encryption_key)  # a clear ValueError for a key that is not one
        if self.environment is Environment.PRODUCTION:
            if self.jwt_secret == DEFAULT_JWT_SECRET:
                raise ValueError(
                    "JWT_SECRET is the development default; set a random secret of at least "
                    f"{MIN_PRODUCTION_SECRET_BYTES} bytes when ENVIRONMENT=production"
                )
            if len(self.jwt_secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
                raise ValueError(
                    f"JWT_SECRET is shorter than {MIN_PRODUCTION_SECRET_BYTES} bytes; refusing to "
                    "start with ENVIRONMENT=production"
                )
            if DEFAULT_MFA_ENCRYPTION_KEY in self.mfa_encryption_keys:
                raise ValueError(
                    "MFA_ENCRYPTION_KEY is unset or the development default; set a Fernet key "
                    "when ENVIRONMENT=production: python3 -c 'from cryptography.fernet import "
                    "Fernet; print(Fernet.generate_key().decode())'"
                )
        return self

    @property
    def mfa_encryption_keys(self) -> list[str]:
        return parse_keys(self.mfa_encryption_key)

    @property
    def effective_admin_mfa_required(self) -> bool:
        if self.admin_mfa_required is not None:
            return self.admin_mfa_required
        return self.environment is Environment.PRODUCTION

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment is Environment.PRODUCTION else "console"

    @property
    def pool(self) -> PoolOptions:
        return PoolOptions(
            size=self.db_pool_size,
            max_overflow=self.db_max_overflow,
            recycle_seconds=self.db_pool_recycle,
            pre_ping=self.db_pool_pre_ping,
            timeout_seconds=self.db_pool_timeout,
            command_timeout_seconds=self.db_command_timeout,
            statement_cache_size=self.db_statement_cache_size,
        )

    @property
    def throttle_rates(self) -> dict[str, Rate]:
        """Every named limit of the throttle, by name."""
        return {
            LOGIN_PER_ACCOUNT_AND_ADDRESS.name: Rate(
                self.login_max_failures_per_account_and_address,
                self.login_account_and_address_window_seconds,
            ),
            LOGIN_PER_ADDRESS.name: Rate(
                self.login_max_failures_per_address, self.login_address_window_seconds
            ),
            LOGIN_PER_ACCOUNT.name: Rate(
                self.login_max_failures_per_account, self.login_account_window_seconds
            ),
            PASSWORD_RESET_PER_EMAIL.name: Rate(
                self.password_reset_max_per_email, self.password_reset_email_window_seconds
            ),
            PASSWORD_RESET_PER_CLIENT.name: Rate(
                self.password_reset_max_per_client, self.password_reset_client_window_seconds
            ),
            VERIFICATION_EMAIL_PER_USER.name: Rate(
                self.verification_email_max_per_user, self.verification_email_window_seconds
            ),
        }

    @property
    def events_enabled(self) -> bool:
        return bool(self.events_nats_url)

    @property
    def events_retry_policy(self) -> RetryPolicy:
        """Events are never dead (docs/decisions/0045): only the backoff counts."""
        return RetryPolicy(
            base_delay_seconds=self.events_retry_base_seconds,
            max_delay_seconds=self.events_retry_max_seconds,
        )

    @property
    def outbox_retention(self) -> timedelta:
        return timedelta(days=self.outbox_retention_days)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.outbox_max_attempts,
            base_delay_seconds=self.outbox_retry_base_seconds,
            max_delay_seconds=self.outbox_retry_max_seconds,
        )
