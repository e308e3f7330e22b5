"""POST /auth/token: the OAuth2 password grant."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated

from fastapi import APIRouter, Form, Response

from application.authenticate_user import AuthenticateUser, AuthenticateUserCommand
from entrypoints.container import Container
from entrypoints.http.injection import provided
from entrypoints.http.problems import problem_responses
from entrypoints.http.schemas import LoginForm, Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    operation_id="create_access_token",
    summary="Log in: exchange a username (or email) and password for an access token",
    responses=problem_responses(400, 401, 422),
)
async def create_access_token(
    form: Annotated[LoginForm, Form()],
    response: Response,
    authenticate_user: Annotated[AuthenticateUser, provided(Container.authenticate_user)],
) -> Token:
    response.headers["Cache-Control"] = "no-store"
    token = await authenticate_user.execute(
        AuthenticateUserCommand(login=form.username, password=form.password)
    )
    return Token(access_token=token.token, expires_in=token.expires_in)
