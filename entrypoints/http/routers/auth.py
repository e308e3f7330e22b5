"""/auth: log in (the OAuth2 password grant), refresh a token pair, log out."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response, status
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
from application.complete_mfa_login import CompleteMfaLogin, CompleteMfaLoginCommand
from application.log_out import LogOut
from application.password_reset import (
    ConfirmPasswordReset,
    ConfirmPasswordResetCommand,
    RequestPasswordReset,
    RequestPasswordResetCommand,
)
from application.refresh_access_token import RefreshAccessToken
from application.token_pairs import TokenPair
from application.verify_email import VerifyEmail
from domain.user import EMAIL_MAX_LENGTH, PASSWORD_MAX_LENGTH
from entrypoints.container import Container
from entrypoints.http.dependencies import client_address
from entrypoints.http.injection import provided
from entrypoints.http.routers.mfa import (
    ONE_OF_CODE_OR_RECOVERY_CODE,
    OptionalRecoveryCode,
    OptionalTotpCode,
    exactly_one_code,
)
from entrypoints.http.schemas import (
    INT32_MAX,
    AccountToken,
    Email,
    Password,
    RequestModel,
    Text,
    UserPrivate,
    login_identifier,
    not_null,
)

TAG = {
    "name": "auth",
    "description": "Log in: exchange credentials for tokens; verify an email address; "
    "reset a forgotten password.",
}
# Every /auth response carries Cache-Control: no-store (SecurityHeadersMiddleware).
router = APIRouter(prefix="/auth", tags=[TAG["name"]])


class LoginForm(RequestModel):
    """The OAuth2 password grant (RFC 6749 section 4.3) fields; ``username`` may be an email."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "ada", "password": "correct horse battery staple"}]
        }
    )

    username: Annotated[
        Text,
        StringConstraints(min_length=1, max_length=EMAIL_MAX_LENGTH),
        AfterValidator(login_identifier),
    ]
    password: Annotated[Text, StringConstraints(min_length=1, max_length=PASSWORD_MAX_LENGTH)]
    grant_type: Literal["password"] | None = None
    scope: Annotated[str, StringConstraints(max_length=1000)] = Field(
        default="", description="Ignored: the service has no scopes."
    )
    client_id: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Ignored."
    )
    client_secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Ignored."
    )


class RefreshTokenBody(RequestModel):
    """A refresh token from ``POST /auth/token`` or ``POST /auth/refresh``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"refresh_token": "Zr3v0CqM1bM9hQ0o2JjF7Yd8kq6lP5sXwT4nA1uE2cI"}]
        }
    )

    # secrets.token_urlsafe(32) is 43 characters; anything far longer is not one of ours.
    refresh_token: Annotated[Text, StringConstraints(min_length=1, max_length=200)]


class Token(BaseModel):
    # Every member is required in the schema: the service always sends them.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    access_token: str = Field(max_length=2000, description="A JWT; send it as a Bearer token.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, no secret
    expires_in: int = Field(
        ge=1,
        le=INT32_MAX,
        json_schema_extra={"format": "int32"},
        description="seconds until the access token expires",
    )
    refresh_token: str = Field(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="single use: `POST /auth/refresh` spends it for a new pair; valid for "
        "REFRESH_TOKEN_TTL_SECONDS (14 days by default)",
    )


class MfaLogin(RequestModel):
    """The ``mfa_token`` of the password step, and a code from the app or a recovery code
    (exactly one of the two)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"mfa_token": "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "code": "123456"}],
            "oneOf": ONE_OF_CODE_OR_RECOVERY_CODE,
        }
    )

    mfa_token: Annotated[
        str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[A-Za-z0-9_.-]+$")
    ]
    code: OptionalTotpCode = None
    recovery_code: OptionalRecoveryCode = None

    _present_fields_not_null = field_validator("code", "recovery_code")(not_null)

    @model_validator(mode="after")
    def _exactly_one(self) -> "MfaLogin":
        exactly_one_code(self.code, self.recovery_code)
        return self


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


@router.post(
    "/token",
    operation_id="create_access_token",
    summary="Log in: exchange a username (or email) and password for a token pair",
)
async def create_access_token(
    form: Annotated[LoginForm, Form()],
    request: Request,
    authenticate_user: Annotated[AuthenticateUser, provided(Container.authenticate_user)],
) -> Token:
    """The OAuth2 password grant. `username` is a username or an email address. Unknown
    user, wrong password and inactive account get one answer (401); failed logins are
    counted per account and address and per address, and past the limits answer 429 with
    `Retry-After`. For an account with the second factor on, the right password gets 401
    `urn:users-items:problem:mfa-required` with an `mfa_token` for `POST /auth/token/mfa`."""
    pair = await authenticate_user.execute(
        AuthenticateUserCommand(
            login=form.username, password=form.password, client_address=client_address(request)
        )
    )
    return _token(pair)


@router.post(
    "/token/mfa",
    operation_id="complete_mfa_login",
    summary="Log in, second step: the mfa_token and a code (or a recovery code) for a token pair",
)
async def complete_mfa_login(
    body: MfaLogin,
    request: Request,
    complete: Annotated[CompleteMfaLogin, provided(Container.complete_mfa_login)],
) -> Token:
    """For an account with the second factor on, `POST /auth/token` answers a right password
    with 401 `urn:users-items:problem:mfa-required` and an `mfa_token`: send it here with the
    app's current code, within 5 minutes. A wrong code is 401 and the `mfa_token` stays usable;
    wrong codes count as failed logins (429 past the limits)."""
    pair = await complete.execute(
        CompleteMfaLoginCommand(
            mfa_token=body.mfa_token,
            code=body.code,
            recovery_code=body.recovery_code,
            client_address=client_address(request),
        )
    )
    return _token(pair)


@router.post(
    "/refresh",
    operation_id="refresh_access_token",
    summary="Spend a refresh token for a new token pair",
)
async def refresh_access_token(
    body: RefreshTokenBody,
    refresh: Annotated[RefreshAccessToken, provided(Container.refresh_access_token)],
) -> Token:
    """Spends a refresh token for a new access and refresh token pair. A refresh token works
    once: presenting a spent one revokes every token descended from the same login."""
    return _token(await refresh.execute(body.refresh_token))


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="log_out",
    summary="Revoke a refresh token (and every token of its login)",
)
async def log_out(
    body: RefreshTokenBody,
    log_out: Annotated[LogOut, provided(Container.log_out)],
) -> Response:
    """Revokes the refresh token and every token of its login. Access tokens already issued
    stay valid until they expire."""
    await log_out.execute(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/verify-email",
    operation_id="verify_email",
    summary="Prove the account's email address with the token of a verification link",
)
async def verify_email(
    body: TokenBody,
    verify: Annotated[VerifyEmail, provided(Container.verify_email)],
) -> UserPrivate:
    return UserPrivate.model_validate(await verify.execute(body.token), from_attributes=True)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,  # an empty body: the schema documents no content
    operation_id="request_password_reset",
    summary="Queue a password-reset email (the same answer for every address)",
)
async def request_password_reset(
    body: PasswordResetRequest,
    request: Request,
    request_reset: Annotated[RequestPasswordReset, provided(Container.request_password_reset)],
) -> Response:
    await request_reset.execute(
        RequestPasswordResetCommand(email=body.email, client_address=client_address(request))
    )
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="confirm_password_reset",
    summary="Set a new password with the token of a reset link",
)
async def confirm_password_reset(
    body: PasswordResetConfirm,
    confirm: Annotated[ConfirmPasswordReset, provided(Container.confirm_password_reset)],
) -> Response:
    await confirm.execute(
        ConfirmPasswordResetCommand(token=body.token, new_password=body.new_password)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _token(pair: TokenPair) -> Token:
    return Token(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
