from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from adapters.limits_throttle import Rate
from entrypoints.settings import (
    DEFAULT_JWT_SECRET,
    DEFAULT_MFA_ENCRYPTION_KEY,
    Environment,
    Settings,
)

STRONG_SECRET = "s" * 32


MFA_KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "JWT_SECRET", "DATABASE_URL", "ADMIN_MFA_REQUIRED"):
        monkeypatch.delenv(name, raising=False)
    # A real key, so that production settings load; the tests of the key unset it.
    monkeypatch.setenv("MFA_ENCRYPTION_KEY", MFA_KEY)


def settings() -> Settings:
    return Settings(_env_file=None)


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="unset-default"),
        pytest.param(DEFAULT_JWT_SECRET, id="explicit-default"),
        pytest.param("s" * 31, id="31-bytes"),
        pytest.param("é" * 15, id="30-bytes-in-utf8"),
    ],
)
def test_production_refuses_a_default_or_short_jwt_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    if secret is not None:
        monkeypatch.setenv("JWT_SECRET", secret)

    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings()


def test_production_accepts_a_secret_of_32_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG_SECRET)

    loaded = settings()

    assert loaded.environment is Environment.PRODUCTION
    assert loaded.jwt_secret == STRONG_SECRET


def test_development_accepts_the_default_secret() -> None:
    loaded = settings()

    assert loaded.environment is Environment.DEVELOPMENT
    assert loaded.jwt_secret == DEFAULT_JWT_SECRET


def test_constructor_arguments_are_checked_like_the_environment() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(_env_file=None, environment="production", jwt_secret="short")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:secret@db.example.com:5432/app",
        "postgres://app:secret@db.example.com/app",
        "sqlite:///./users-items.db",
    ],
)
def test_accepts_postgres_and_sqlite_database_urls(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)

    assert settings().database_url == url


def test_refuses_a_mysql_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://app:secret@db.example.com/app")

    with pytest.raises(ValidationError, match="mysql"):
        settings()


@pytest.mark.parametrize(
    ("environment", "log_format", "expected"),
    [
        ("production", None, "json"),
        ("development", None, "console"),
        ("test", None, "console"),
        ("production", "console", "console"),
        ("development", "json", "json"),
    ],
)
def test_logs_are_json_in_production_unless_log_format_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, environment: str, log_format: str | None, expected: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.setenv("JWT_SECRET", STRONG_SECRET)
    if log_format is not None:
        monkeypatch.setenv("LOG_FORMAT", log_format)
    else:
        monkeypatch.delenv("LOG_FORMAT", raising=False)

    assert settings().effective_log_format == expected


def test_log_level_ignores_case_and_refuses_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert settings().log_level == "DEBUG"
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ValidationError, match=r"(?i)log_level"):
        settings()


def test_the_login_limits_reach_the_throttle_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", "3")
    monkeypatch.setenv("LOGIN_ACCOUNT_AND_ADDRESS_WINDOW_SECONDS", "600")
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_ACCOUNT", "40")

    rates = settings().throttle_rates

    assert rates["login-account-address"] == Rate(3, 600)
    assert rates["login-address"] == Rate(50, 60)
    assert rates["login-account"] == Rate(40, 900)


def test_the_account_ceiling_cannot_be_below_the_pair_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGIN_MAX_FAILURES_PER_ACCOUNT", "4")

    with pytest.raises(ValidationError, match="LOGIN_MAX_FAILURES_PER_ACCOUNT"):
        settings()


def test_the_server_guards_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVER_HEADER_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("SERVER_MAX_CONNECTIONS", "64")
    monkeypatch.setenv("SERVER_KEEP_ALIVE_SECONDS", "75")

    assert settings().server_header_timeout_seconds == 2.5
    assert settings().server_max_connections == 64
    assert settings().server_keep_alive_seconds == 75


def test_an_idle_connection_is_kept_for_uvicorns_five_seconds_unless_set() -> None:
    assert settings().server_keep_alive_seconds == 5


@pytest.mark.parametrize(
    "key", [None, DEFAULT_MFA_ENCRYPTION_KEY, f"{MFA_KEY},{DEFAULT_MFA_ENCRYPTION_KEY}"]
)
def test_production_refuses_to_start_without_an_mfa_encryption_key(
    monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("JWT_SECRET", STRONG_SECRET)
    if key is None:
        monkeypatch.delenv("MFA_ENCRYPTION_KEY")
    else:
        monkeypatch.setenv("MFA_ENCRYPTION_KEY", key)
    with pytest.raises(ValidationError, match="MFA_ENCRYPTION_KEY"):
        settings()


def test_mfa_encryption_keys_rotate_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    new = Fernet.generate_key().decode()
    monkeypatch.setenv("MFA_ENCRYPTION_KEY", f" {new} ,{MFA_KEY}")
    assert settings().mfa_encryption_keys == [new, MFA_KEY]
    monkeypatch.setenv("MFA_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(ValidationError, match="MFA_ENCRYPTION_KEY: key 1 is not a Fernet key"):
        settings()


@pytest.mark.parametrize(
    ("environment", "setting", "expected"),
    [
        ("production", None, True),
        ("development", None, False),
        ("test", None, False),
        ("production", "false", False),
        ("development", "true", True),
    ],
)
def test_admins_need_the_second_factor_by_default_in_production_only(
    monkeypatch: pytest.MonkeyPatch, environment: str, setting: str | None, expected: bool
) -> None:
    monkeypatch.setenv("ENVIRONMENT", environment)
    monkeypatch.setenv("JWT_SECRET", STRONG_SECRET)
    if setting is not None:
        monkeypatch.setenv("ADMIN_MFA_REQUIRED", setting)
    assert settings().effective_admin_mfa_required is expected
