"""The daily digest, on a schedule, exactly once per scope and day across replicas.

Each run claims (job="digest", scope, period=the reported local date) before posting, so two
replicas, a retry or a catch-up never post a day twice. Missed days are caught up at start-up.
On PostgreSQL only the holder of a session advisory lock runs the scheduler; the others retry
the lock periodically and take over when the holder's connection dies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.notices import Notice, Notifier, broadcast
from bot.spend.digest import build_digest, digest_notice
from storage.claims import Claims
from storage.database import DatabaseUnavailable
from storage.leader import LeaderLock
from storage.ledger import Ledger
from storage.tables import utcnow

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
# A digest delayed by a restart or a long pause is still worth posting the same day.
MISFIRE_GRACE_S = 12 * 3600
LOCK_RETRY_S = 30.0


def digest_trigger(digest_time: str, zone: ZoneInfo) -> CronTrigger:
    hour, minute = (int(part) for part in digest_time.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=zone)


ExperimentLines = Callable[[datetime], Awaitable[Sequence[str]]]  # lines for the day ending


class DigestJob:
    """Builds and posts one day's digest; `clock` is injectable so tests drive simulated days."""

    def __init__(
        self,
        ledger: Ledger,
        claims: Claims,
        notifiers: Sequence[Notifier],
        *,
        zone: ZoneInfo,
        digest_time: str,
        baseline_model: str,
        monthly_budget_nano_usd: int | None = None,
        scope: str = "all",
        clock: Callable[[], datetime] = utcnow,
        chart: bool = True,
        experiment_lines: ExperimentLines | None = None,
        quality_lines: ExperimentLines | None = None,
        knowledge_lines: ExperimentLines | None = None,
    ) -> None:
        self.ledger, self.claims, self.notifiers = ledger, claims, tuple(notifiers)
        self.zone, self.scope = zone, scope
        hour, minute = (int(part) for part in digest_time.split(":"))
        self._at = (hour, minute)
        self._baseline, self._budget = baseline_model, monthly_budget_nano_usd
        self._clock = clock
        self._chart = chart
        self._experiment_lines = experiment_lines
        self._quality_lines = quality_lines
        self._knowledge_lines = knowledge_lines

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
        first = await self.ledger.first_call_at()
        if first is None:
            return []
        last = self.last_due(self._clock())
        start = max(first.astimezone(self.zone).date(), last - timedelta(days=CATCH_UP_DAYS - 1))
        done = await self.claims.claimed_periods("digest", self.scope)
        if done:
            start = max(start, date.fromisoformat(max(done)) + timedelta(days=1))
        posted = []
        day = start
        while day <= last:
            if await self.post(day):
                posted.append(day)
            day += timedelta(days=1)
        return posted

    async def notice(self, day: date, *, chart: bool | None = None) -> Notice:
        """The digest of `day` as a neutral notice (with its chart unless switched off)."""
        lines: Sequence[str] = ()
        quality: Sequence[str] = ()
        end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=self.zone)
        if self._experiment_lines is not None:
            lines = await self._experiment_lines(end)
        if self._quality_lines is not None:
            quality = await self._quality_lines(end)
        knowledge = await self._knowledge_lines(end) if self._knowledge_lines else ()
        data = await build_digest(
            self.ledger,
            day,
            self.zone,
            baseline_model=self._baseline,
            monthly_budget_nano_usd=self._budget,
            experiment_lines=lines,
            quality_lines=quality,
            knowledge_lines=knowledge,
        )
        png = None
        if self._chart if chart is None else chart:
            from bot.spend.chart import spend_chart  # matplotlib: only where a chart is drawn

            png = spend_chart(data.chart_days, data.chart_series, data.zone)
        return digest_notice(data, png)

    async def post(self, day: date, *, force: bool = False) -> bool:
        """Claim `day`, then build and post its digest; False when someone already did (unless
        `force`, which posts again without a second claim)."""
        claimed = await self.claims.claim("digest", self.scope, day.isoformat())
        if not claimed and not force:
            log.info("digest for %s already claimed", day)
            return False
        await broadcast(self.notifiers, await self.notice(day))
        log.info("posted digest for %s", day)
        return True


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
                except DatabaseUnavailable as error:  # an outage: the lock went with it
                    if self.leading:
                        log.warning("digest scheduler: lost the leader lock, the database is "
                                    "unavailable (%s); retrying every %g s", error, self.retry_s)
                    self.stop_scheduler()
                except Exception:  # anything else: keep trying, the claims keep it safe
                    log.exception("digest scheduler round failed")
                await asyncio.sleep(self.retry_s)
        finally:
            await self.close()
