"""Waiting for the database with deadlines, refused or stalled alike.

A refused connection fails at once; a stalled database (its processes stopped, a storage
hiccup) accepts the connection and never answers. Either way a question's user hears, by
`DATABASE_WAIT_S` after their message arrived, that it is taking longer than usual; the wait
then goes on (the answer follows when the database is back) up to a last deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.conversation.messages import Reply
from storage.database import DatabaseUnavailable, within

log = logging.getLogger(__name__)
T = TypeVar("T")

SLOW = (
    "This is taking longer than usual: Switchboard is waiting for its database. "
    "The answer will follow.\n\n"
)
MIN_TRY_S = 0.1  # the shortest try: a healthy database answers well within it
MAX_PAUSE_S = 2.0


async def patiently(
    op: Callable[[], Awaitable[T]],
    *,
    give_up_at: float,
    slow_at: float | None = None,
    on_slow: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """`op()`'s result, tried again while the database is down or slow; `on_slow` once at
    `slow_at`; `DatabaseUnavailable` at `give_up_at` (times are `time.monotonic()`)."""
    pause = 0.05
    while True:
        waiting_for = give_up_at if slow_at is None else min(slow_at, give_up_at)
        try:
            return await within(max(MIN_TRY_S, waiting_for - time.monotonic()), op())
        except DatabaseUnavailable:
            now = time.monotonic()
            if slow_at is not None and now >= slow_at:
                slow_at = None
                if on_slow is not None:
                    await on_slow()
            if now >= give_up_at:
                raise
            next_at = give_up_at if slow_at is None else min(slow_at, give_up_at)
            await asyncio.sleep(max(0.0, min(pause, next_at - now)))
            pause = min(pause * 2, MAX_PAUSE_S)


async def for_the_user(
    op: Callable[[], Awaitable[T]], reply: Reply, *, arrived: float, slow_s: float, max_s: float
) -> T:
    """`op()`, tried again while the database is down or stalled: by `slow_s` after the
    message arrived its user hears it is taking longer than usual (the answer follows when
    the database is back); `DatabaseUnavailable` after `max_s`."""

    async def tell_slow() -> None:
        log.warning("database slow or down: telling the user it takes longer than usual")
        await reply.start()
        await reply.append(SLOW)

    return await patiently(op, slow_at=arrived + slow_s, give_up_at=arrived + max(slow_s, max_s),
                           on_slow=tell_slow)  # fmt: skip
