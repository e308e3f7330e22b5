"""/auth: log in (the OAuth2 password grant), refresh a token pair, log out."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
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
from entrypoints.container import Container
from entrypoints.http.dependencies import client_address
from entrypoints.http.injection import provided
from entrypoints.http.schemas import (
    LoginForm,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshTokenBody,
    Token,
    TokenBody,
    UserPrivate,
)

# Every /auth response carries Cache-Control: no-store (SecurityHeadersMiddleware).
router = APIRouter(prefix="/auth", tags=["auth"])


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
    `Retry-After`."""
    pair = await authenticate_user.execute(
        AuthenticateUserCommand(
            login=form.username, password=form.password, client_address=client_address(request)
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
