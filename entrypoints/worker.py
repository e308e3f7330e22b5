"""The outbox worker's loop: deliver, sleep when idle, stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from application.errors import StorageUnavailable
from entrypoints.container import Container

logger = logging.getLogger("users_items.worker")


async def run_worker(container: Container, stop: asyncio.Event | None = None) -> None:
    """Deliver outbox messages until ``stop`` is set (SIGTERM and SIGINT set it). The message in
    hand is always finished; the rest of its batch is handed back for the next worker."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    poll_seconds = container.settings().outbox_poll_seconds
    deliver = container.deliver_outbox_messages()
    logger.info("outbox worker started")
    try:
        while not stop.is_set():
            try:
                report = await deliver.execute(should_stop=stop.is_set)
            except StorageUnavailable:
                logger.warning("database unavailable; next try in %ss", poll_seconds)
                claimed = 0
            except Exception:
                # A bug or a surprise from below must not stop delivery for good: log it, wait,
                # try again (an unfinished claim comes back when its lease runs out).
                logger.exception("outbox pass failed; next try in %ss", poll_seconds)
                claimed = 0
            else:
                claimed = report.claimed
            if claimed == 0:  # idle, or the database is away: wait, but wake up for a stop
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await container.engine().dispose()
        logger.info("outbox worker stopped")
