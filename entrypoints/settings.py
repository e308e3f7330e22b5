"""Settings from the environment (pydantic-settings). Every variable is listed in the README."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.sqlalchemy.engine import DEFAULT_DATABASE_URL, PoolOptions, to_async_url

DEFAULT_JWT_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production
MIN_PRODUCTION_SECRET_BYTES = 32


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
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_recycle: int = Field(default=1800, description="seconds; -1 disables")
    db_pool_pre_ping: bool = False
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_echo: bool = False

    jwt_secret: str = DEFAULT_JWT_SECRET
    jwt_issuer: str = "users-items"
    jwt_audience: str = "users-items"
    access_token_ttl_seconds: int = Field(default=900, ge=1)

    log_format: LogFormat | None = Field(
        default=None, description="json or console; by default json in production, else console"
    )
    log_level: LogLevel = "INFO"

    @model_validator(mode="after")
    def _check(self) -> Self:
        to_async_url(self.database_url)  # raises a clear ValueError on an unknown scheme
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
        return self

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
        )
