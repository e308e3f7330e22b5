"""/admin: what an administrator does with anyone's account."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from application.list_all_users import ListAllUsers
from application.manage_user import ManageUser, ManageUserCommand
from application.pagination import MAX_PAGE_SIZE
from entrypoints.container import Container
from entrypoints.http.dependencies import CurrentUser, PagingQuery, UserIdPath
from entrypoints.http.injection import provided
from entrypoints.http.schemas import NextCursor, RequestModel, UserPrivate, not_null

TAG = {"name": "admin", "description": "Administrators: every user's account."}
router = APIRouter(prefix="/admin", tags=[TAG["name"]])


class UserPrivatePage(BaseModel):
    items: list[UserPrivate] = Field(max_length=MAX_PAGE_SIZE)
    next_cursor: NextCursor


class AdminUserUpdate(RequestModel):
    """Send only what changes: ``is_active`` (deactivate, reactivate), ``is_admin``."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    is_active: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None
    is_admin: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = None

    _present_fieldsnot_null = field_validator("is_active", "is_admin")(not_null)


@router.get(
    "/users",
    operation_id="admin_list_users",
    summary="Every user, emails included, a page at a time (admins only)",
)
async def list_users(
    caller: CurrentUser,
    paging: PagingQuery,
    list_all_users: Annotated[ListAllUsers, provided(Container.list_all_users)],
) -> UserPrivatePage:
    page = await list_all_users.execute(caller, paging.request)
    return UserPrivatePage.model_validate(
        {"items": page.items, "next_cursor": paging.cursor_after(page.next_after_id)},
        from_attributes=True,
    )


@router.patch(
    "/users/{user_id}",
    operation_id="admin_update_user",
    summary="Deactivate or reactivate a user, grant or revoke admin (never the last admin)",
)
async def update_user(
    user_id: UserIdPath,
    body: AdminUserUpdate,
    caller: CurrentUser,
    manage_user: Annotated[ManageUser, provided(Container.manage_user)],
) -> UserPrivate:
    user = await manage_user.execute(
        ManageUserCommand(
            actor=caller, user_id=user_id, is_active=body.is_active, is_admin=body.is_admin
        )
    )
    return UserPrivate.model_validate(user, from_attributes=True)
