"""The events other services are told of, and how a use case records one.

``EVENT_TYPES`` is the one definition of every event type and its ``data``: the recorder checks
each event against it, the relay publishes what it recorded, and ``docs/asyncapi.yaml`` is
generated from it (``python -m entrypoints.asyncapi``; a test fails when the two differ).

A use case records an event with ``await self._events.record(self._uow, USER_DELETED, user.id)``
inside its unit of work, before ``commit``: the event exists if and only if the change does. With
events off (``EVENTS_NATS_URL`` unset) ``record`` does nothing, so nothing else changes. An event
about a row the store has not numbered yet (``item.created``) is made with ``of_new_item`` and
handed to the repository with the row, which records both in one write (decision 0057).

Never in an event: password hashes, tokens, links with tokens, second-factor secrets or codes.
``record`` refuses any field the type does not define, so a secret cannot slip in by a keyword.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.clock import Clock, utc_now
from application.ports import NewOutboxMessage, Outbox, OutboxDestination, UnitOfWork
from application.ports.repositories import NEW_ITEM_ID

TYPE_PREFIX = "users-items."  # CloudEvents ``type``: "users-items.<type>"

# JSON Schema fragments of the data fields.
_ID: Mapping[str, Any] = {"type": "integer", "minimum": 1}
_STRING: Mapping[str, Any] = {"type": "string"}
_NULLABLE_STRING: Mapping[str, Any] = {"type": ["string", "null"]}
_BOOLEAN: Mapping[str, Any] = {"type": "boolean"}
_TIME: Mapping[str, Any] = {"type": "string", "format": "date-time"}
_EMAIL: Mapping[str, Any] = {"type": "string", "format": "email"}


@dataclass(frozen=True, slots=True)
class EventType:
    name: str  # "user.registered"
    summary: str
    fields: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # beyond user_id

    @property
    def cloud_type(self) -> str:
        return TYPE_PREFIX + self.name

    def data_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {"user_id": dict(_ID)}
        properties.update({name: dict(schema) for name, schema in self.fields.items()})
        return {
            "type": "object",
            "additionalProperties": False,
            "required": list(properties),
            "properties": properties,
        }


def _type(name: str, summary: str, **fields: Mapping[str, Any]) -> EventType:
    return EventType(name, summary, fields)


USER_REGISTERED = _type(
    "user.registered",
    "Someone signed up, or an operator created a user (`create-user`).",
    username=_STRING,
    email=_EMAIL,
    email_verified=_BOOLEAN,
    is_admin=_BOOLEAN,
    created_at=_TIME,
)
USER_EMAIL_VERIFIED = _type(
    "user.email_verified",
    "The user proved their address: a verification or password-reset link was used.",
    email=_EMAIL,
)
USER_PROFILE_CHANGED = _type(
    "user.profile_changed",
    "The user changed their username and/or email (`PATCH /users/me`); `changed` names the "
    "fields that changed. A new email is unverified.",
    username=_STRING,
    email=_EMAIL,
    email_verified=_BOOLEAN,
    changed={
        "type": "array",
        "items": {"type": "string", "enum": ["username", "email"]},
        "minItems": 1,
        "uniqueItems": True,
    },
)
USER_PASSWORD_CHANGED = _type(
    "user.password_changed",
    "The password was changed or reset; every older credential of the user stopped working.",
)
USER_DEACTIVATED = _type("user.deactivated", "An admin or operator switched the account off.")
USER_REACTIVATED = _type("user.reactivated", "An admin switched the account back on.")
USER_ADMIN_GRANTED = _type("user.admin_granted", "The user became an administrator.")
USER_ADMIN_REVOKED = _type("user.admin_revoked", "The user is no longer an administrator.")
USER_MFA_ENABLED = _type("user.mfa_enabled", "The user turned the second factor (TOTP) on.")
USER_MFA_DISABLED = _type("user.mfa_disabled", "The second factor was turned off.")
USER_DELETED = _type(
    "user.deleted",
    "The account and everything it owned are gone: consumers erase what they hold about the "
    "user (no `item.deleted` follows for its items).",
)
_ITEM: dict[str, Mapping[str, Any]] = {
    "item_id": _ID,
    "title": _STRING,
    "description": _NULLABLE_STRING,
}
ITEM_CREATED = _type("item.created", "The user added an item.", **_ITEM)
ITEM_UPDATED = _type(
    "item.updated", "The item's title or description changed (its new values).", **_ITEM
)
ITEM_DELETED = _type(
    "item.deleted",
    "The item was deleted by its owner or an admin (not sent for the items of a deleted user).",
    item_id=_ID,
)

EVENT_TYPES: Mapping[str, EventType] = {
    t.name: t
    for t in (
        USER_REGISTERED,
        USER_EMAIL_VERIFIED,
        USER_PROFILE_CHANGED,
        USER_PASSWORD_CHANGED,
        USER_DEACTIVATED,
        USER_REACTIVATED,
        USER_ADMIN_GRANTED,
        USER_ADMIN_REVOKED,
        USER_MFA_ENABLED,
        USER_MFA_DISABLED,
        USER_DELETED,
        ITEM_CREATED,
        ITEM_UPDATED,
        ITEM_DELETED,
    )
}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | list | set | frozenset):
        return list(value)
    return value


class Events:
    """Records events in the caller's unit of work (the caller commits). ``enabled`` is false
    when no broker is configured: then nothing is recorded."""

    def __init__(self, *, enabled: bool, clock: Clock = utc_now) -> None:
        self.enabled = enabled
        self._clock = clock

    async def record(
        self, uow: UnitOfWork, event_type: EventType, user_id: int, **data: Any
    ) -> None:
        if not self.enabled:
            return
        await uow.repository(Outbox).add(self._message(event_type, user_id, data, set(data)))

    def of_new_item(
        self, event_type: EventType, user_id: int, **data: Any
    ) -> NewOutboxMessage | None:
        """The event of an item not stored yet, for ``ItemRepository.add``, which records it with
        the item and completes it with the item's id: every field but ``item_id``. None when
        events are off."""
        if not self.enabled:
            return None
        if NEW_ITEM_ID in data:
            raise ValueError(f"{event_type.name} holds the {NEW_ITEM_ID} the store gives it")
        return self._message(event_type, user_id, data, {*data, NEW_ITEM_ID})

    def _message(
        self, event_type: EventType, user_id: int, data: Mapping[str, Any], fields: set[str]
    ) -> NewOutboxMessage:
        if fields != set(event_type.fields):
            raise ValueError(
                f"{event_type.name} holds {sorted(event_type.fields)}, not {sorted(fields)}"
            )
        return NewOutboxMessage(
            event_id=str(uuid.uuid4()),
            event_type=event_type.name,
            payload={"user_id": user_id, **{k: _json_value(v) for k, v in data.items()}},
            created_at=self._clock(),
            destination=OutboxDestination.EVENTS,
            ordering_key=str(user_id),
        )


NO_EVENTS = Events(enabled=False)
