"""``docs/asyncapi.yaml``, generated from the definitions the code publishes.

``application.events.EVENT_TYPES`` holds every event type and its ``data`` schema; the recorder
checks each event against it and the relay publishes what was recorded. This module turns the
same table into an AsyncAPI 3.0 document: one channel per type (``<prefix>.<type>``, shown with
the default prefix), one ``send`` operation, one message (the CloudEvent envelope with that
type's ``data``).

    .venv/bin/python -m entrypoints.asyncapi > docs/asyncapi.yaml

tests/integration/test_asyncapi.py fails when the committed file and this differ, and validates
the file with the AsyncAPI CLI.
"""

from __future__ import annotations

from typing import Any

from adapters.nats_events import CONTENT_TYPE, DEFAULT_SUBJECT_PREFIX
from application.events import EVENT_TYPES, EventType

VERSION = "1.0.0"


def _camel(name: str) -> str:
    parts = name.replace("_", ".").split(".")
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def _pascal(name: str) -> str:
    camel = _camel(name)
    return camel[0].upper() + camel[1:]


def _cloud_event_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "A CloudEvents 1.0 event in structured JSON mode.",
        "required": [
            "specversion",
            "id",
            "source",
            "type",
            "subject",
            "time",
            "datacontenttype",
            "data",
        ],
        "properties": {
            "specversion": {"type": "string", "const": "1.0"},
            "id": {
                "type": "string",
                "format": "uuid",
                "description": "The event's identity; a repeat carries the same id. Equals the "
                "Nats-Msg-Id header.",
            },
            "source": {
                "type": "string",
                "format": "uri-reference",
                "description": "EVENTS_SOURCE, by default /users-items.",
            },
            "type": {"type": "string", "pattern": "^users-items\\.[a-z_]+\\.[a-z_]+$"},
            "subject": {
                "type": "string",
                "pattern": "^[1-9][0-9]*$",
                "description": "The id of the user the event is about, as a decimal string.",
            },
            "time": {
                "type": "string",
                "format": "date-time",
                "description": "When the change was made, in its transaction (RFC 3339, UTC).",
            },
            "datacontenttype": {"type": "string", "const": "application/json"},
            "data": {"type": "object"},
        },
    }


def _headers_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Content-Type", "Nats-Msg-Id"],
        "properties": {
            "Content-Type": {"type": "string", "const": CONTENT_TYPE},
            "Nats-Msg-Id": {
                "type": "string",
                "format": "uuid",
                "description": "The event id: JetStream drops a repeat within its duplicate "
                "window.",
            },
        },
    }


def _message(event: EventType) -> dict[str, Any]:
    return {
        "name": event.cloud_type,
        "title": event.name,
        "summary": event.summary,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/Headers"},
        "payload": {
            "allOf": [
                {"$ref": "#/components/schemas/CloudEvent"},
                {
                    "type": "object",
                    "properties": {
                        "type": {"type": "string", "const": event.cloud_type},
                        "data": {"$ref": f"#/components/schemas/{_pascal(event.name)}Data"},
                    },
                },
            ]
        },
    }


def document(prefix: str = DEFAULT_SUBJECT_PREFIX) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every event type."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "CloudEvent": _cloud_event_schema(),
        "Headers": _headers_schema(),
    }
    for event in EVENT_TYPES.values():
        key = _camel(event.name)
        channels[key] = {
            "address": f"{prefix}.{event.name}",
            "title": event.name,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        operations[f"publish{_pascal(event.name)}"] = {
            "action": "send",
            "summary": event.summary,
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
        messages[key] = _message(event)
        schemas[f"{_pascal(event.name)}Data"] = event.data_schema()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "users-items events",
            "version": VERSION,
            "description": (
                "Every change to people and their items, told as CloudEvents 1.0 (structured "
                "JSON) on NATS JetStream. Stream EVENTS_STREAM (default USERS_ITEMS) holds the "
                "subjects <EVENTS_SUBJECT_PREFIX>.> (default prefix users-items; the channel "
                "addresses below use it). Delivery is at least once (a repeat carries the same "
                "id); one user's events are published in the order of the changes. Never in an "
                "event: password hashes, tokens, links with tokens, second-factor secrets."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "jetstream": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "EVENTS_NATS_URL (NATS with JetStream).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    import yaml  # type: ignore[import-untyped,unused-ignore]  # PyYAML: in the lock already

    header = "# Generated by `python -m entrypoints.asyncapi` from application/events.py.\n"
    text: str = yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)
    return header + text


if __name__ == "__main__":
    print(render(), end="")
