"""Request and response bodies. Requests forbid unknown fields; responses are allow-lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from domain.item import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from domain.user import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_PATTERN,
)


def _storable(value: str) -> str:
    """Refuse what no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _email(value: str) -> str:
    try:
        # strict: RFC 5321's length limits too (64-byte local part); no DNS look-up.
        return validate_email(value, check_deliverability=False, strict=True).normalized
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=EMAIL_MAX_LENGTH),
    AfterValidator(_storable),
    AfterValidator(_email),
    Field(examples=["ada@example.com"], json_schema_extra={"format": "email"}),
]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN), Field(examples=["ada"])]
Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    AfterValidator(_storable),
    Field(examples=["correct horse battery staple"]),
]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX_LENGTH),
    AfterValidator(_storable),
    AfterValidator(_not_blank),
    Field(examples=["Bicycle"], json_schema_extra={"pattern": r"\S"}),  # not blank
]
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX_LENGTH),
    AfterValidator(_storable),
    Field(examples=["Blue, 21 gears"]),
]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "ada@example.com",
                    "username": "ada",
                    "password": "correct horse battery staple",
                }
            ]
        }
    )

    email: Email
    username: Username
    password: Password


class LoginForm(RequestModel):
    """The OAuth2 password grant (RFC 6749 section 4.3) fields; ``username`` may be an email."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "ada", "password": "correct horse battery staple"}]
        }
    )

    username: Annotated[
        str,
        StringConstraints(min_length=1, max_length=EMAIL_MAX_LENGTH),
        AfterValidator(_storable),
    ]
    password: Annotated[
        str,
        StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH),
        AfterValidator(_storable),
    ]
    grant_type: Literal["password"] | None = None
    scope: Annotated[str, StringConstraints(max_length=1000)] = ""
    client_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    client_secret: Annotated[str, StringConstraints(max_length=200)] | None = None


class ItemCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Bicycle", "description": "Blue, 21 gears"}]}
    )

    title: Title
    description: Description | None = None


class ItemUpdate(RequestModel):
    """Send only what changes; ``description: null`` clears it, ``title`` may not be null."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Red bicycle"}]})

    # Optional but never null: the schema says so, the validator below enforces it.
    title: Annotated[
        Title | None,
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": TITLE_MAX_LENGTH,
                "pattern": r"\S",
                "examples": ["Red bicycle"],
            }
        ),
    ] = None
    description: Description | None = None

    @field_validator("title")
    @classmethod
    def _title_not_null(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("title may not be null")
        return value


class UserPublic(BaseModel):
    id: int
    username: str
    is_active: bool
    created_at: datetime


class UserPrivate(UserPublic):
    email: str
    email_verified: bool
    is_admin: bool


class ItemOut(BaseModel):
    model_config = ConfigDict(title="Item")

    id: int
    title: str
    description: str | None
    owner_id: int
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None


class UserPrivatePage(BaseModel):
    items: list[UserPrivate]
    next_cursor: str | None


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


class RefreshTokenBody(RequestModel):
    """A refresh token from ``POST /auth/token`` or ``POST /auth/refresh``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"refresh_token": "Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI"}]
        }
    )

    # secrets.token_urlsafe(32) is 43 characters; anything far longer is not one of ours.
    refresh_token: Annotated[
        str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)
    ]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, no secret
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_token: str = Field(
        description="single use: `POST /auth/refresh` spends it for a new pair; valid for "
        "REFRESH_TOKEN_TTL_SECONDS (14 days by default)"
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(Health):
    checks: dict[str, str]


# --- accounts ---------------------------------------------------------------------------------

# A token from an email: secrets.token_urlsafe(32) is 43 characters. A string of another shape
# is simply unknown (400), like any token we never issued; only absurd lengths are a 422.
AccountToken = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    AfterValidator(_storable),
    Field(examples=["Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI"]),
]


class TokenBody(RequestModel):
    """The token of a verification link (``/verify-email?token=...``)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"token": "Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI"}]}
    )

    token: AccountToken


class PasswordResetRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "ada@example.com"}]})

    email: Email


class PasswordResetConfirm(RequestModel):
    """The token of a reset link (``/reset-password?token=...``) and the new password."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI",
                    "new_password": "a new horse battery staple",
                }
            ]
        }
    )

    token: AccountToken
    new_password: Password


class PasswordChange(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "current_password": "correct horse battery staple",
                    "new_password": "a new horse battery staple",
                }
            ]
        }
    )

    current_password: Annotated[
        str,
        StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH),
        AfterValidator(_storable),
    ]
    new_password: Password


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


class UserUpdate(RequestModel):
    """Send only what changes. A new email needs a login at most REAUTH_MAX_AGE_SECONDS old."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "ada_l"}]})

    # Optional but never null: the schema says so, the validator enforces it.
    username: Annotated[
        Username | None,
        WithJsonSchema({"type": "string", "pattern": USERNAME_PATTERN, "examples": ["ada_l"]}),
    ] = None
    email: Annotated[
        Email | None,
        WithJsonSchema(
            {
                "type": "string",
                "format": "email",
                "maxLength": EMAIL_MAX_LENGTH,
                "examples": ["ada@example.org"],
            }
        ),
    ] = None

    _present_fields_not_null = field_validator("username", "email")(_not_null)


class AdminUserUpdate(RequestModel):
    """Send only what changes: ``is_active`` (deactivate, reactivate), ``is_admin``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    is_active: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    is_admin: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None

    _present_fields_not_null = field_validator("is_active", "is_admin")(_not_null)


class SessionOut(BaseModel):
    model_config = ConfigDict(title="Session")

    id: int
    created_at: datetime = Field(description="the login")
    last_used_at: datetime = Field(description="the last refresh (the login, if none yet)")
    current: bool = Field(description="the session of the access token that asked")


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None


class AccountExport(BaseModel):
    """Everything stored about the caller (streamed as one JSON document)."""

    user: UserPrivate
    items: list[ItemOut]
    sessions: list[SessionOut]
