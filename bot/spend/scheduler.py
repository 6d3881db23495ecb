"""The daily digest, on a schedule, exactly once per scope and day across replicas.

Each run claims (job="digest", scope, period=the reported local date) before posting, so two
replicas, a retry or a catch-up never post a day twice. Missed days are caught up at start-up.
On PostgreSQL only the holder of a session advisory lock runs the scheduler; the others retry
the lock periodically and take over when the holder's connection dies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.conversation.ports import Notifier
from bot.experiments.config import Experiment
from bot.notices import ConsoleNotifier, broadcast
from bot.spend.chart import spend_chart
from bot.spend.digest import build_digest
from bot.spend.digest_render import notice
from storage.claims import claim, claimed_periods
from storage.ledger import first_call_at
from storage.tables import utcnow

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
# A digest delayed by a restart or a long pause is still worth posting the same day.
MISFIRE_GRACE_S = 12 * 3600
LOCK_RETRY_S = 30.0


def digest_trigger(digest_time: str, zone: ZoneInfo) -> CronTrigger:
    hour, minute = (int(part) for part in digest_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=zone)


class DigestJob:
    """Builds and posts one day's digest; `clock` is injectable so tests drive simulated days."""

    def __init__(
        self,
        db: AsyncEngine,
        notifiers: Sequence[Notifier],
        *,
        zone: ZoneInfo,
        digest_time: str,
        baseline_model: str,
        monthly_budget_nano_usd: int | None = None,
        scope: str = "all",
        clock: Callable[[], datetime] = utcnow,
        fallback: Notifier | None = None,
        chart: bool = True,
        experiments: Sequence[Experiment] = (),
    ) -> None:
        self.db, self.notifiers, self.zone, self.scope = db, notifiers, zone, scope
        hour, minute = (int(part) for part in digest_time.split(":"))
        self._at = (hour, minute)
        self._baseline, self._budget = baseline_model, monthly_budget_nano_usd
        self._clock = clock
        self._fallback = fallback or ConsoleNotifier()
        self._chart = chart
        self._experiments = experiments

    async def run(self) -> bool:
        """The scheduled job: the digest of the local day before now."""
        return await self.post(self._clock().astimezone(self.zone).date() - timedelta(days=1))

    def last_due(self, now: datetime) -> date:
        """The latest day whose digest time has passed (yesterday once today's time is past)."""
        local = now.astimezone(self.zone)
        passed = (local.hour, local.minute) >= self._at
        return local.date() - timedelta(days=1 if passed else 2)

    async def catch_up(self) -> list[date]:
        """Post the digests missed while no instance ran: since the first call or the last
        digest, at most the last CATCH_UP_DAYS days."""
        first = await first_call_at(self.db)
        if first is None:
            return []
        last = self.last_due(self._clock())
        start = max(first.astimezone(self.zone).date(), last - timedelta(days=CATCH_UP_DAYS - 1))
        done = await claimed_periods(self.db, "digest", self.scope)
        if done:
            start = max(start, date.fromisoformat(max(done)) + timedelta(days=1))
        posted = []
        day = start
        while day <= last:
            if await self.post(day):
                posted.append(day)
            day += timedelta(days=1)
        return posted

    async def post(self, day: date) -> bool:
        """Claim `day`, then build and post its digest; False when someone already did."""
        if not await claim(self.db, "digest", self.scope, day.isoformat()):
            log.info("digest for %s already claimed", day)
            return False
        data = await build_digest(
            self.db,
            day,
            self.zone,
            baseline_model=self._baseline,
            monthly_budget_nano_usd=self._budget,
            experiments=self._experiments,
        )
        png = spend_chart(data.chart_days, data.chart_series, data.zone) if self._chart else None
        await broadcast(self.notifiers, notice(data, png), self._fallback)
        log.info("posted digest for %s", day)
        return True


def lock_key(name: str) -> int:
    """A signed 64-bit advisory-lock key from a name (stable across processes)."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LeaderLock:
    """A PostgreSQL session advisory lock on a dedicated connection; always held on SQLite
    (one SQLite file means one host, and claims still guard each digest)."""

    def __init__(self, db: AsyncEngine, name: str = "switchboard:scheduler") -> None:
        self.db, self.name = db, name
        self._conn: AsyncConnection | None = None

    @property
    def shared(self) -> bool:
        return self.db.dialect.name == "postgresql"

    async def hold(self) -> bool:
        """True while this instance holds the lock; tries to take it when it does not."""
        if not self.shared:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(sa.text("SELECT 1"))
                return True
            except Exception:  # the connection died: the server released our lock
                log.warning("lost the scheduler lock's connection")
                await self._drop()
        conn = await self.db.connect()
        try:
            schema = await conn.scalar(sa.text("SELECT current_schema()"))
            key = lock_key(f"{self.name}:{schema}")
            got = bool(await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(key))))
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def backend_pid(self) -> int | None:
        if self._conn is None:
            return None
        return int(await self._conn.scalar(sa.text("SELECT pg_backend_pid()")) or 0)

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            except Exception:
                log.debug("advisory unlock failed; the connection is gone anyway")
            await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.invalidate()  # never hand a lock-holding session back to the pool
            except Exception:
                log.debug("closing the lock connection failed")


class DigestScheduler:
    """Runs the digest job in an AsyncIOScheduler while this instance holds the leader lock."""

    def __init__(
        self, job: DigestJob, trigger: CronTrigger, lock: LeaderLock, retry_s: float = LOCK_RETRY_S
    ) -> None:
        self.job, self.trigger, self.lock, self.retry_s = job, trigger, lock, retry_s
        self.scheduler: AsyncIOScheduler | None = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    async def step(self) -> bool:
        """One round: take or keep the lock; start (with catch-up) or stop the scheduler."""
        if await self.lock.hold():
            if self.scheduler is None:
                await self.job.catch_up()
                self.scheduler = AsyncIOScheduler(timezone=self.job.zone)
                self.scheduler.add_job(
                    self.job.run,
                    self.trigger,
                    id="digest",
                    misfire_grace_time=MISFIRE_GRACE_S,
                    coalesce=True,
                    max_instances=1,
                )
                self.scheduler.start()
                log.info("digest scheduler started (leader)")
        elif self.scheduler is not None:
            self.stop_scheduler()
        return self.leading

    def stop_scheduler(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            log.info("digest scheduler stopped")

    async def close(self) -> None:
        self.stop_scheduler()
        await self.lock.release()

    async def serve(self) -> None:
        try:
            while True:
                try:
                    await self.step()
                except Exception:  # a database hiccup: keep trying, the claims keep it safe
                    log.exception("digest scheduler round failed")
                await asyncio.sleep(self.retry_s)
        finally:
            await self.close()
