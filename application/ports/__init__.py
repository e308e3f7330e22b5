"""Ports: what the use cases need from the outside world, as ``typing.Protocol``s."""

from application.ports.events import (
    CloudEvent,
    EventPublisher,
    EventRejected,
    NamedEvent,
    PublisherUnavailable,
    RunOutcome,
)
from application.ports.health_probe import HealthProbe
from application.ports.notifier import Notification, NotificationFailed, Notifier
from application.ports.outbox import (
    NewOutboxMessage,
    Outbox,
    OutboxDestination,
    OutboxMessage,
    OutboxStatus,
)
from application.ports.password_hasher import PasswordHasher
from application.ports.queries import ItemQueries, Session, SessionQueries, UserQueries
from application.ports.refresh_tokens import (
    NewRefreshToken,
    RefreshTokenRepository,
    StoredRefreshToken,
)
from application.ports.repositories import ItemRepository, UserRepository
from application.ports.throttle import Count, Limit, Throttle
from application.ports.token_service import AccessClaims, AccessToken, TokenService
from application.ports.unit_of_work import UnitOfWork

__all__ = [
    "AccessClaims",
    "AccessToken",
    "CloudEvent",
    "Count",
    "EventPublisher",
    "EventRejected",
    "HealthProbe",
    "ItemQueries",
    "ItemRepository",
    "Limit",
    "NamedEvent",
    "NewOutboxMessage",
    "NewRefreshToken",
    "Notification",
    "NotificationFailed",
    "Notifier",
    "Outbox",
    "OutboxDestination",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordHasher",
    "PublisherUnavailable",
    "RefreshTokenRepository",
    "RunOutcome",
    "Session",
    "SessionQueries",
    "StoredRefreshToken",
    "Throttle",
    "TokenService",
    "UnitOfWork",
    "UserQueries",
    "UserRepository",
]
