"""Request and response bodies. Requests forbid unknown fields; responses are allow-lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from domain.item import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from domain.user import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_PATTERN,
)
from entrypoints.http.problems import MAX_LISTED_ERRORS


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
    """A deliverable-syntax address as stored: an ASCII local part (a non-ASCII one is refused,
    so no look-alike letters from other scripts) and the domain in its ASCII (IDNA) form,
    lower-cased (``Ada@Bücher.DE`` is stored as ``Ada@xn--bcher-kva.de``)."""
    try:
        # strict: RFC 5321's length limits too (64-byte local part); no DNS look-up.
        # allow_smtputf8=False: "Internationalized characters before the @-sign are not
        # supported".
        result = validate_email(
            value, check_deliverability=False, strict=True, allow_smtputf8=False
        )
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None
    return f"{result.local_part}@{result.ascii_domain}"


def login_identifier(value: str) -> str:
    """A login as the account look-up compares it: an email address gets its domain's ASCII
    (IDNA) form, as stored (``ada@bücher.de`` finds ``ada@xn--bcher-kva.de``); anything else,
    a username or an address that does not parse, is left as typed (and then simply not
    found)."""
    if "@" not in value:
        return value
    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return value
    return f"{result.local_part}@{result.ascii_domain}"


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

    @model_validator(mode="before")
    @classmethod
    def _few_unknown_fields(cls, data: Any) -> Any:
        """pydantic reports every unknown field of an object, one error each: a 1 MiB object of
        unknown keys cost over a second of the event loop for a 422 that lists 20 of them
        anyway. So the known fields and the first few unknown ones go on to validation; the
        answer is the same 422 problem, with at most ``MAX_LISTED_ERRORS`` errors."""
        if not isinstance(data, dict) or len(data) <= len(cls.model_fields) + MAX_LISTED_ERRORS:
            return data
        kept: dict[Any, Any] = {}
        unknown = 0
        for key, value in data.items():
            if key in cls.model_fields:
                kept[key] = value
            elif unknown < MAX_LISTED_ERRORS:
                kept[key] = value
                unknown += 1
        return kept


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
        AfterValidator(login_identifier),
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
