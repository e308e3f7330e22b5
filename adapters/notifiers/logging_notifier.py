"""The default notifier: writes each notification to the log instead of sending it."""

from __future__ import annotations

import logging

from application.ports import Notification

logger = logging.getLogger("users_items.notifications")


class LoggingNotifier:
    async def send(self, notification: Notification) -> None:
        logger.info(
            "notification to %s: %s (event %s)",
            notification.recipient,
            notification.subject,
            notification.event_id,
        )
