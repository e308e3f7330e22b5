"""Logging: one format for every line the process writes, with the request id in each.

Our own events go through structlog straight to stdout (no stdlib ``LogRecord`` on the hot path).
Everything logged through the standard library (uvicorn, SQLAlchemy, Alembic, asyncio) is routed
through structlog's ``ProcessorFormatter`` with the same processors, so a line looks the same
whoever wrote it: JSON objects in production, aligned readable lines in development.

The request id is bound into structlog's contextvars by the HTTP middleware; ``merge_contextvars``
adds it to every line logged while that request runs, ours and the libraries' alike.

Secrets: nothing here logs headers or bodies. As a second line of defence, a value under a key
that names a secret (password, token, authorization, secret, cookie) is replaced, and a bearer
token or JWT inside a message is masked.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from entrypoints.settings import LogFormat, Settings

REDACTED = "[redacted]"
_SECRET_KEY = re.compile(r"pass(word|wd)?|token|secret|authori[sz]ation|cookie|api_?key", re.I)
_SECRET_IN_TEXT = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+|\beyJ[\w-]+\.[\w-]+\.[\w-]*")


@functools.cache  # keys come from code, so the cache stays small; a look-up per key per line
def _is_secret_key(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def _mask(match: re.Match[str]) -> str:
    return f"{match.group(1) or ''}{REDACTED}"


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace values under secret-sounding keys; mask bearer tokens and JWTs in the message."""
    for key in event_dict:
        if _is_secret_key(key):
            event_dict[key] = REDACTED
    event = event_dict.get("event")
    if isinstance(event, str) and ("earer" in event or "eyJ" in event):
        event_dict["event"] = _SECRET_IN_TEXT.sub(_mask, event)
    return event_dict


def _json(obj: MutableMapping[str, Any], **_kwargs: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _renderers(log_format: LogFormat, stream: TextIO) -> list[Processor]:
    if log_format == "json":
        return [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_json),
        ]
    # Rich tracebacks, but never with local variables: a local can be a password or a token.
    return [
        structlog.dev.ConsoleRenderer(
            colors=stream.isatty(),
            exception_formatter=structlog.dev.RichTracebackFormatter(show_locals=False),
        )
    ]


class _CurrentStdout:
    """``sys.stdout`` as it is at each write, not as it was when logging was configured (a test
    runner or CLI harness may swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Set up structlog and the standard library's root logger; safe to call more than once."""
    stream = stream or cast(TextIO, _CurrentStdout())
    log_format = settings.effective_log_format
    level = logging.getLevelNamesMapping()[settings.log_level]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderers = _renderers(log_format, stream)

    structlog.configure(
        processors=[*shared, *renderers],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(stream)
    # The level is a floor for every line this handler writes, whatever level a library gave
    # its own logger (SQLAlchemy sets "sqlalchemy" to WARNING when imported, so its pool errors
    # would pass LOG_LEVEL=CRITICAL otherwise).
    handler.setLevel(level)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderers],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    _raise_library_levels(level)
    # Warnings (SQLAlchemy's SAWarning on a connection the garbage collector reclaims, ...) are
    # logged through "py.warnings" at WARNING, in our format and under LOG_LEVEL, instead of
    # going to stderr past it.
    logging.captureWarnings(True)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # Our middleware writes one access line per request; uvicorn's own would be a second one.
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True


def _raise_library_levels(level: int) -> None:
    """A library logger with an explicit level below ``level`` (SQLAlchemy's "sqlalchemy" is
    WARNING) gets ``level``, so its records are dropped where they are made; loggers set
    higher, or not at all, are left alone."""
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logging.NOTSET < logger.level < level:
            logger.setLevel(level)
