"""/users: sign up, the caller's own account, public profiles."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from application.create_user import CreateUser, CreateUserCommand
from application.get_user import GetUser
from application.list_users import ListUsers
from application.pagination import MAX_PAGE_SIZE
from entrypoints.container import Container
from entrypoints.http.dependencies import CurrentUser, PagingQuery, UserIdPath
from entrypoints.http.injection import provided
from entrypoints.http.schemas import NextCursor, UserCreate, UserPrivate, UserPublic

TAG = {"name": "users", "description": "Sign up, your own account, public profiles."}
router = APIRouter(prefix="/users", tags=[TAG["name"]])


class UserPage(BaseModel):
    items: list[UserPublic] = Field(max_length=MAX_PAGE_SIZE)
    next_cursor: NextCursor


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_user",
    summary="Sign up",
)
async def create_user(
    body: UserCreate,
    response: Response,
    create_user: Annotated[CreateUser, provided(Container.create_user)],
) -> UserPrivate:
    """Creates an active account. Email and username are unique, compared case-insensitively
    (409 names each taken field). The answer's `Location` is the new user's path."""
    user = await create_user.execute(
        CreateUserCommand(email=body.email, username=body.username, password=body.password)
    )
    response.headers["Location"] = f"/users/{user.id}"
    return UserPrivate.model_validate(user, from_attributes=True)


@router.get(
    "",
    operation_id="list_users",
    summary="List users, a page at a time",
)
async def list_users(
    caller: CurrentUser,
    paging: PagingQuery,
    list_users: Annotated[ListUsers, provided(Container.list_users)],
) -> UserPage:
    """Public profiles (no emails), ascending `id`, keyset pages: pass `next_cursor` as
    `cursor` for the next page."""
    page = await list_users.execute(paging.request)
    next_cursor = paging.cursor_after(page.next_after_id)
    return UserPage.model_validate(
        {"items": page.items, "next_cursor": next_cursor}, from_attributes=True
    )


@router.get(
    "/me",
    operation_id="get_current_user",
    summary="The caller's own account, with email",
)
async def get_me(caller: CurrentUser) -> UserPrivate:
    """The caller's own account, email included."""
    return UserPrivate.model_validate(caller, from_attributes=True)


@router.get(
    "/{user_id}",
    operation_id="get_user",
    summary="A user's public profile",
)
async def get_user(
    user_id: UserIdPath,
    caller: CurrentUser,
    get_user: Annotated[GetUser, provided(Container.get_user)],
) -> UserPublic:
    """A public profile: no email."""
    return UserPublic.model_validate(await get_user.execute(user_id), from_attributes=True)
