"""Items: a user's collection (/users/{id}/items) and every item (/items)."""

# No `from __future__ import annotations`: FastAPI reads the dependencies from evaluated
# annotations.
from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from application.add_item_to_user import AddItemToUser, AddItemToUserCommand
from application.delete_item import DeleteItem, DeleteItemCommand
from application.get_item import GetItem
from application.list_items import ListItems
from application.list_user_items import ListUserItems
from application.pagination import MAX_PAGE_SIZE
from application.update_item import UpdateItem, UpdateItemCommand
from domain.item import TITLE_MAX_LENGTH, Item
from entrypoints.container import Container
from entrypoints.http.dependencies import CurrentUser, ItemIdPath, PagingQuery, UserIdPath
from entrypoints.http.injection import provided
from entrypoints.http.schemas import (
    NOT_BLANK,
    Description,
    ItemOut,
    NextCursor,
    RequestModel,
    Title,
)

TAG = {"name": "items", "description": "Items, each owned by one user."}
router = APIRouter(tags=[TAG["name"]])


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
                "pattern": NOT_BLANK,
                "description": "Not blank (not whitespace only), no NUL; never null.",
                "examples": ["Red bicycle"],
            }
        ),
    ] = None
    description: Description | None = None

    @field_validator("title")
    @classmethod
    def _titlenot_null(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("title may not be null")
        return value


class ItemPage(BaseModel):
    items: list[ItemOut] = Field(max_length=MAX_PAGE_SIZE)
    next_cursor: NextCursor


@router.post(
    "/users/{user_id}/items",
    status_code=status.HTTP_201_CREATED,
    operation_id="add_item_to_user",
    summary="Add an item to the caller's own collection",
)
async def add_item_to_user(
    user_id: UserIdPath,
    body: ItemCreate,
    caller: CurrentUser,
    response: Response,
    add_item: Annotated[AddItemToUser, provided(Container.add_item_to_user)],
) -> ItemOut:
    """Only into the caller's own collection: any other `user_id` is 403, whether or not
    that user exists. The answer's `Location` is the new item's path."""
    item = await add_item.execute(
        AddItemToUserCommand(
            actor_id=caller.id, owner_id=user_id, title=body.title, description=body.description
        )
    )
    response.headers["Location"] = f"/items/{item.id}"
    return ItemOut.model_validate(item, from_attributes=True)


@router.get(
    "/users/{user_id}/items",
    operation_id="list_user_items",
    summary="One user's items, a page at a time",
)
async def list_user_items(
    user_id: UserIdPath,
    caller: CurrentUser,
    paging: PagingQuery,
    list_user_items: Annotated[ListUserItems, provided(Container.list_user_items)],
) -> ItemPage:
    """Ascending `id`, keyset pages: pass `next_cursor` as `cursor` for the next page."""
    page = await list_user_items.execute(user_id, paging.request)
    return _item_page(page.items, paging.cursor_after(page.next_after_id))


@router.get(
    "/items",
    operation_id="list_items",
    summary="Every item, a page at a time",
)
async def list_items(
    caller: CurrentUser,
    paging: PagingQuery,
    list_items: Annotated[ListItems, provided(Container.list_items)],
) -> ItemPage:
    """Every user's items, ascending `id`, keyset pages: pass `next_cursor` as `cursor` for
    the next page."""
    page = await list_items.execute(paging.request)
    return _item_page(page.items, paging.cursor_after(page.next_after_id))


@router.get(
    "/items/{item_id}",
    operation_id="get_item",
    summary="One item",
)
async def get_item(
    item_id: ItemIdPath,
    caller: CurrentUser,
    get_item: Annotated[GetItem, provided(Container.get_item)],
) -> ItemOut:
    """Any authenticated caller may read any item."""
    return ItemOut.model_validate(await get_item.execute(item_id), from_attributes=True)


@router.patch(
    "/items/{item_id}",
    operation_id="update_item",
    summary="Change an item the caller owns",
)
async def update_item(
    item_id: ItemIdPath,
    body: ItemUpdate,
    caller: CurrentUser,
    update_item: Annotated[UpdateItem, provided(Container.update_item)],
) -> ItemOut:
    """Send only the fields that change; `description: null` clears it. Only the owner may
    (403 otherwise)."""
    changes = body.model_dump(exclude_unset=True)
    item = await update_item.execute(
        UpdateItemCommand(
            actor_id=caller.id, actor_is_admin=caller.is_admin, item_id=item_id, **changes
        )
    )
    return ItemOut.model_validate(item, from_attributes=True)


@router.delete(
    "/items/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_item",
    summary="Delete an item the caller owns",
)
async def delete_item(
    item_id: ItemIdPath,
    caller: CurrentUser,
    delete_item: Annotated[DeleteItem, provided(Container.delete_item)],
) -> Response:
    """Only the owner, or an admin, may (403 otherwise)."""
    await delete_item.execute(
        DeleteItemCommand(actor_id=caller.id, actor_is_admin=caller.is_admin, item_id=item_id)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _item_page(items: Sequence[Item], next_cursor: str | None) -> ItemPage:
    return ItemPage.model_validate(
        {"items": items, "next_cursor": next_cursor}, from_attributes=True
    )
