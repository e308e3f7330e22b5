"""What the request and response bodies are built from: field types, their validators and
patterns, ``RequestModel``; and the bodies several modules share (``UserCreate``, which the CLI
validates with too, ``UserPublic``, ``UserPrivate``, ``ItemOut``). A body only one router uses is
defined in that router's module. Requests forbid unknown fields; responses are allow-lists."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from domain.item import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH
from domain.user import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
)
from entrypoints.http.cursors import CURSOR_LENGTH, CURSOR_PATTERN
from entrypoints.http.problems import MAX_LISTED_ERRORS

# Patterns in the schema say what the validators below enforce, in the regex dialect that
# JSON Schema (ECMA-262) and Python share; tests/unit/test_schema_patterns.py checks that they
# agree with the validators.
NO_NUL = r"^[^\u0000]*$"
# What str.strip() removes: a title made only of these (or empty) is blank.
PYTHON_WHITESPACE = (
    r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f"
    r"\u205f\u3000"
)
NOT_BLANK = rf"^[^\u0000]*[^\u0000{PYTHON_WHITESPACE}][^\u0000]*$"
# A subset of what email-validator accepts (dot-atom ASCII local part of at most 64 characters,
# hostname labels without "--", a top-level domain of letters that is not special-use), so
# every address of this pattern is accepted; some valid addresses outside it (internationalised
# domains, longer labels) are accepted too, as the field's description says.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = rf"(?:{_ATEXT}{{1,64}}|{_ATEXT}{{1,20}}(?:\.{_ATEXT}{{1,20}}){{1,2}})"
_LABEL = r"[A-Za-z0-9]{1,20}(?:-[A-Za-z0-9]{1,20}){0,2}"
_SPECIAL_USE = "|".join(
    "".join(f"[{c.upper()}{c}]" for c in name) for name in sorted(SPECIAL_USE_DOMAIN_NAMES)
)
EMAIL_PATTERN = rf"^{_LOCAL}@(?:{_LABEL}\.){{1,4}}(?!(?:{_SPECIAL_USE})$)[A-Za-z]{{2,20}}$"
INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=INT64_MAX, json_schema_extra={"format": "int64"})]
Timestamp = Annotated[datetime, Field(json_schema_extra={"maxLength": 40})]


def storable(value: str) -> str:
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


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def not_null(value: object) -> object:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


Email = Annotated[
    str,
    StringConstraints(min_length=3, max_length=EMAIL_MAX_LENGTH),
    AfterValidator(storable),
    AfterValidator(_email),
    Field(
        examples=["ada@example.com"],
        description="A deliverable-syntax address: an ASCII local part, a domain (an "
        "internationalised one is kept in its ASCII form) that is not special-use (.test, "
        ".invalid, .localhost, .local, .onion, .arpa). Stored normalised; compared "
        "case-insensitively. Every address of the pattern is accepted; a few others are too.",
        json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN},
    ),
]
Username = Annotated[
    str,
    StringConstraints(
        pattern=USERNAME_PATTERN, min_length=USERNAME_MIN_LENGTH, max_length=USERNAME_MAX_LENGTH
    ),
    Field(examples=["ada"]),
]
Password = Annotated[
    str,
    StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH),
    AfterValidator(storable),
    Field(
        examples=["correct horse battery staple"],
        description="Any characters but NUL.",
        json_schema_extra={"pattern": NO_NUL},
    ),
]
Title = Annotated[
    str,
    StringConstraints(min_length=1, max_length=TITLE_MAX_LENGTH),
    AfterValidator(storable),
    AfterValidator(not_blank),
    Field(
        examples=["Bicycle"],
        description="Not blank (not whitespace only), no NUL.",
        json_schema_extra={"pattern": NOT_BLANK},
    ),
]
Description = Annotated[
    str,
    StringConstraints(max_length=DESCRIPTION_MAX_LENGTH),
    AfterValidator(storable),
    Field(examples=["Blue, 21 gears"], json_schema_extra={"pattern": NO_NUL}),
]
# Any characters but NUL, up to a bound (what the login and refresh bodies take).
Text = Annotated[str, AfterValidator(storable), Field(json_schema_extra={"pattern": NO_NUL})]

# A token from an email: secrets.token_urlsafe(32), 43 characters of [A-Za-z0-9_-]. A string of
# that alphabet we never issued is simply unknown (400); anything else is not a token (422).
AccountToken = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(examples=["Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI"]),
]

NextCursor = Annotated[
    Annotated[
        str, Field(min_length=CURSOR_LENGTH, max_length=CURSOR_LENGTH, pattern=CURSOR_PATTERN)
    ]
    | None,
    Field(description="Pass it as `cursor` for the next page; null on the last page."),
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


class UserPublic(BaseModel):
    id: Id
    username: Annotated[
        str, Field(max_length=USERNAME_MAX_LENGTH, json_schema_extra={"pattern": USERNAME_PATTERN})
    ]
    is_active: bool
    created_at: Timestamp


class UserPrivate(UserPublic):
    email: Annotated[str, Field(max_length=EMAIL_MAX_LENGTH, json_schema_extra={"format": "email"})]
    email_verified: bool
    is_admin: bool
    mfa_enabled: bool = Field(description="the second factor (TOTP) is on")


class ItemOut(BaseModel):
    model_config = ConfigDict(title="Item")

    id: Id
    title: Annotated[str, Field(max_length=TITLE_MAX_LENGTH)]
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX_LENGTH)] | None
    owner_id: Id
    created_at: Timestamp
