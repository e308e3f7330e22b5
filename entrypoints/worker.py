"""The outbox worker's loop: deliver, sleep when idle, prune delivered messages past their
retention once an hour, stop cleanly on SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from application.errors import StorageUnavailable
from application.manage_outbox import PruneOutbox
from entrypoints.container import Container

logger = logging.getLogger("users_items.worker")

PRUNE_EVERY_SECONDS = 3600.0


async def run_worker(container: Container, stop: asyncio.Event | None = None) -> None:
    """Deliver outbox messages until ``stop`` is set (SIGTERM and SIGINT set it). The message in
    hand is always finished; the rest of its batch is handed back for the next worker."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    poll_seconds = container.settings().outbox_poll_seconds
    deliver = container.deliver_outbox_messages()
    prune = container.prune_outbox()
    next_prune = time.monotonic()  # at start, then hourly, when there is nothing to deliver
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
            if claimed == 0 and time.monotonic() >= next_prune:
                next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                await _prune(prune)
            if claimed == 0:  # idle, or the database is away: wait, but wake up for a stop
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_seconds)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await container.engine().dispose()
        logger.info("outbox worker stopped")


async def _prune(prune: PruneOutbox) -> None:
    try:
        deleted = await prune.execute()
    except StorageUnavailable:
        logger.warning("database unavailable; outbox not pruned")
    except Exception:
        logger.exception("pruning the outbox failed")
    else:
        if deleted:
            logger.info("pruned %d delivered outbox messages", deleted)
