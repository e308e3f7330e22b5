"""/users/me/...: the caller's own account: profile, password, email verification, deletion,
export, sessions."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from application.change_password import ChangePassword, ChangePasswordCommand
from application.delete_account import DeleteAccount
from application.end_sessions import EndAllSessions, EndSession
from application.export_account import AccountExport as ExportedAccount
from application.export_account import ExportAccount
from application.list_sessions import ListSessions
from application.pagination import MAX_PAGE_SIZE
from application.update_profile import UpdateProfile, UpdateProfileCommand
from application.verify_email import ResendVerificationEmail
from domain.user import (
    EMAIL_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    USERNAME_MIN_LENGTH,
    USERNAME_PATTERN,
)
from entrypoints.container import Container
from entrypoints.http.dependencies import (
    CurrentCaller,
    CurrentUser,
    PagingQuery,
    SessionIdPath,
    client_address,
)
from entrypoints.http.injection import provided
from entrypoints.http.schemas import (
    EMAIL_PATTERN,
    Email,
    Id,
    ItemOut,
    NextCursor,
    Password,
    RequestModel,
    Timestamp,
    Username,
    UserPrivate,
    not_null,
    storable,
)

TAG = {
    "name": "account",
    "description": "Your own account: profile, password, email verification, sessions, "
    "export, deletion.",
}
router = APIRouter(prefix="/users/me", tags=[TAG["name"]])


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
        AfterValidator(storable),
    ]
    new_password: Password


class UserUpdate(RequestModel):
    """Send only what changes. A new email needs a login at most REAUTH_MAX_AGE_SECONDS old."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"username": "ada_l"}]})

    # Optional but never null: the schema says so, the validator enforces it.
    username: Annotated[
        Username | None,
        WithJsonSchema(
            {
                "type": "string",
                "pattern": USERNAME_PATTERN,
                "minLength": USERNAME_MIN_LENGTH,
                "maxLength": USERNAME_MAX_LENGTH,
                "examples": ["ada_l"],
            }
        ),
    ] = None
    email: Annotated[
        Email | None,
        WithJsonSchema(
            {
                "type": "string",
                "format": "email",
                "pattern": EMAIL_PATTERN,
                "minLength": 3,
                "maxLength": EMAIL_MAX_LENGTH,
                "examples": ["ada@example.org"],
            }
        ),
    ] = None

    _present_fieldsnot_null = field_validator("username", "email")(not_null)


class SessionOut(BaseModel):
    model_config = ConfigDict(title="Session")

    id: Id
    created_at: Timestamp = Field(description="the login")
    last_used_at: Timestamp = Field(description="the last refresh (the login, if none yet)")
    current: bool = Field(description="the session of the access token that asked")


class SessionPage(BaseModel):
    items: list[SessionOut] = Field(max_length=MAX_PAGE_SIZE)
    next_cursor: NextCursor


class AccountExport(BaseModel):
    """Everything stored about the caller (streamed as one JSON document)."""

    user: UserPrivate
    items: list[ItemOut]
    sessions: list[SessionOut]


_NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.patch(
    "",
    operation_id="update_current_user",
    summary="Change the caller's username and/or email (a new email needs a fresh login)",
)
async def update_me(
    body: UserUpdate,
    caller: CurrentCaller,
    update_profile: Annotated[UpdateProfile, provided(Container.update_profile)],
) -> UserPrivate:
    user = await update_profile.execute(
        caller, UpdateProfileCommand(username=body.username, email=body.email)
    )
    return UserPrivate.model_validate(user, from_attributes=True)


@router.delete(
    "",
    status_code=_NO_CONTENT,
    operation_id="delete_current_user",
    summary="Delete the caller's account and everything it owns (needs a fresh login)",
)
async def delete_me(
    caller: CurrentCaller,
    delete_account: Annotated[DeleteAccount, provided(Container.delete_account)],
) -> Response:
    await delete_account.execute(caller)
    return Response(status_code=_NO_CONTENT)


@router.post(
    "/verify-email",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,  # an empty body: the schema documents no content
    operation_id="resend_verification_email",
    summary="Queue a new verification email (voids the links sent before)",
)
async def resend_verification_email(
    caller: CurrentUser,
    resend: Annotated[ResendVerificationEmail, provided(Container.resend_verification_email)],
) -> Response:
    await resend.execute(caller)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post(
    "/password",
    status_code=_NO_CONTENT,
    operation_id="change_password",
    summary="Change the caller's password; every session and access token issued before ends",
)
async def change_password(
    body: PasswordChange,
    request: Request,
    caller: CurrentUser,
    change: Annotated[ChangePassword, provided(Container.change_password)],
) -> Response:
    await change.execute(
        caller,
        ChangePasswordCommand(
            current_password=body.current_password,
            new_password=body.new_password,
            client_address=client_address(request),
        ),
    )
    return Response(status_code=_NO_CONTENT)


@router.get(
    "/export",
    operation_id="export_current_user",
    summary="Everything stored about the caller, as one JSON document (streamed)",
    response_model=None,
    responses={
        200: {"model": AccountExport, "description": "The account, every item, every session"},
    },
)
async def export_me(
    caller: CurrentCaller,
    export_account: Annotated[ExportAccount, provided(Container.export_account)],
) -> StreamingResponse:
    # Streamed after this function returns, outside the request's shared connection: each page
    # of items and sessions is read with a connection of its own, so a huge account is never
    # held in memory whole, nor holds a connection while the client reads slowly.
    return StreamingResponse(
        _export_json(export_account.execute(caller)), media_type="application/json"
    )


@router.get(
    "/sessions",
    operation_id="list_sessions",
    summary="The caller's logins that can still be refreshed, a page at a time",
)
async def list_sessions(
    caller: CurrentCaller,
    paging: PagingQuery,
    list_sessions: Annotated[ListSessions, provided(Container.list_sessions)],
) -> SessionPage:
    page = await list_sessions.execute(caller, paging.request)
    return SessionPage.model_validate(
        {"items": page.items, "next_cursor": paging.cursor_after(page.next_after_id)},
        from_attributes=True,
    )


@router.delete(
    "/sessions/{session_id}",
    status_code=_NO_CONTENT,
    operation_id="end_session",
    summary="End one of the caller's sessions: it can no longer be refreshed",
)
async def end_session(
    session_id: SessionIdPath,
    caller: CurrentUser,
    end: Annotated[EndSession, provided(Container.end_session)],
) -> Response:
    await end.execute(caller.id, session_id)
    return Response(status_code=_NO_CONTENT)


@router.delete(
    "/sessions",
    status_code=_NO_CONTENT,
    operation_id="end_all_sessions",
    summary="Log out everywhere: every session ends and every access token stops working",
)
async def end_all_sessions(
    caller: CurrentUser,
    end_all: Annotated[EndAllSessions, provided(Container.end_all_sessions)],
) -> Response:
    await end_all.execute(caller.id)
    return Response(status_code=_NO_CONTENT)


_CHUNK_BYTES = 64 * 1024


def _json(model: type[BaseModel], value: object) -> bytes:
    return model.model_validate(value, from_attributes=True).model_dump_json().encode()


async def _export_json(export: ExportedAccount) -> AsyncIterator[bytes]:
    """``{"user": ..., "items": [...], "sessions": [...]}`` in chunks of about 64 KiB."""
    buffer = bytearray(b'{"user":' + _json(UserPrivate, export.user) + b',"items":[')
    separator = b""
    async for item in export.items:
        buffer += separator + _json(ItemOut, item)
        separator = b","
        if len(buffer) >= _CHUNK_BYTES:
            yield bytes(buffer)
            buffer.clear()
    buffer += b'],"sessions":['
    separator = b""
    async for session in export.sessions:
        buffer += separator + _json(SessionOut, session)
        separator = b","
    yield bytes(buffer + b"]}")
