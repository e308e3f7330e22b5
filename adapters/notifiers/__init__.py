"""Notifier adapters: a logging notifier (the default) and an SMTP notifier (``SMTP_URL``)."""

from adapters.notifiers.logging_notifier import LoggingNotifier
from adapters.notifiers.smtp_notifier import SmtpNotifier

__all__ = ["LoggingNotifier", "SmtpNotifier"]
