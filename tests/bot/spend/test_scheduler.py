"""The digest schedule: DST-correct, exactly one digest per day across instances, catch-up."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.spend.scheduler import DigestJob, DigestScheduler, digest_trigger
from storage.claims import Claims
from storage.leader import LeaderLock, lock_key
from storage.ledger import Ledger
from tests.conftest import Database
from tests.fakes import RecordingNotifier
from tests.pg_proxy import CuttableProxy
from tests.rows import call_values, insert_calls, make_thread

BERLIN = ZoneInfo("Europe/Berlin")
START = date(2026, 3, 20)  # spans the spring DST change (Mar 29)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.now = datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 29), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),  # CEST starts: UTC+2
        (date(2026, 10, 25), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),  # CET again: UTC+1
        (date(2026, 3, 28), datetime(2026, 3, 28, 8, 0, tzinfo=UTC)),
    ],
)
def test_nine_berlin_fires_at_the_right_utc_time_on_dst_days(day: date, expected: datetime) -> None:
    trigger = digest_trigger("09:00", BERLIN)
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    fire = trigger.get_next_fire_time(None, midnight)
    assert fire.astimezone(UTC) == expected
    assert (fire.hour, fire.minute) == (9, 0)


async def seed_days(database: Database, days: int) -> None:
    engine = database.engine()
    try:
        thread = await make_thread(engine)
        rows = [
            call_values(
                thread,
                datetime.combine(START + timedelta(n), time(12), tzinfo=BERLIN),
                cost_nano_usd=1_000_000 * (n + 1),
            )
            for n in range(days)
        ]
        await insert_calls(engine, rows)
    finally:
        await engine.dispose()


ENGINES: list[AsyncEngine] = []  # every replica's engine, disposed by `dispose_all`


def job(database: Database, clock: Clock, notifier: RecordingNotifier) -> DigestJob:
    """One replica's digest job, on its own engine (connection pool) over the shared database."""
    db = database.engine()
    ENGINES.append(db)
    return DigestJob(
        Ledger(db),
        Claims(db),
        [notifier],
        zone=BERLIN,
        digest_time="09:00",
        baseline_model="anthropic/claude-opus-4-5",
        clock=clock,
        chart=False,
    )


async def dispose_all() -> None:
    while ENGINES:
        await ENGINES.pop().dispose()


async def test_two_instances_over_30_days_post_exactly_30_digests(database: Database) -> None:
    await seed_days(database, 31)
    clock = Clock(datetime.combine(START, time(8), tzinfo=BERLIN))
    notifier = RecordingNotifier()
    first, second = job(database, clock, notifier), job(database, clock, notifier)
    try:
        assert await first.catch_up() == [] == await second.catch_up()  # nothing due yet
        for n in range(1, 31):
            clock.at(START + timedelta(n), 9)
            # Both replicas fire (a shared job store would too); then a restart's catch-up.
            results = await asyncio.gather(first.run(), second.run())
            assert sorted(results) == [False, True]
            assert await second.catch_up() == []
        assert len(notifier.notices) == 30
        days = await first.claims.claimed_periods("digest", "all")
        assert days == {(START + timedelta(n)).isoformat() for n in range(30)}
        march_29 = [n for n in notifier.notices if "Sun 29 Mar 2026" in n.text]
        assert len(march_29) == 1 and ("Spend", "$0.0100") in march_29[0].fields
    finally:
        await dispose_all()


async def test_a_missed_day_is_caught_up_once(database: Database) -> None:
    await seed_days(database, 8)
    clock = Clock(datetime.combine(START, time(8), tzinfo=BERLIN))
    notifier = RecordingNotifier()
    first, second = job(database, clock, notifier), job(database, clock, notifier)
    try:
        for n in range(1, 4):  # digests of START .. START+2 posted on time
            clock.at(START + timedelta(n), 9)
            assert await first.run()
        # Down on day 4 and day 5 at 09:00; back at 08:30 on day 6: days 3 and 4 are missed.
        clock.at(START + timedelta(6), 8, 30)
        caught = await asyncio.gather(first.catch_up(), second.catch_up())
        missed = sorted(day for days in caught for day in days)  # each day by one replica
        assert missed == [START + timedelta(3), START + timedelta(4)]
        assert await first.catch_up() == []
        clock.at(START + timedelta(6), 9)
        assert await second.run()  # day 5, on time
        # Each day once; the two replicas' catch-ups may interleave days 3 and 4.
        posted = sorted(n.title for n in notifier.notices)
        assert posted == sorted(
            f"Switchboard spend for {START + timedelta(n):%a %d %b %Y}" for n in range(6)
        )
    finally:
        await dispose_all()


async def holder(conn: AsyncConnection, name: str, schema: str | None) -> int:
    """The session holding the advisory lock `name` in `schema`, as an operator finds it: a
    bigint key shows in pg_locks as its high (classid) and low (objid) 32 bits."""
    key = lock_key(f"{name}:{schema}") & 0xFFFF_FFFF_FFFF_FFFF
    query = sa.text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = :high AND objid = :low AND objsubid = 1")  # fmt: skip
    return int(await conn.scalar(query, {"high": key >> 32, "low": key & 0xFFFF_FFFF}))


async def test_second_replica_takes_over_when_the_leader_dies(database: Database) -> None:
    if database.kind != "postgres":
        pytest.skip("advisory locks are a PostgreSQL feature")
    clock = Clock(datetime.combine(START, time(8), tzinfo=BERLIN))
    notifier = RecordingNotifier()
    trigger = digest_trigger("09:00", BERLIN)
    jobs = [job(database, clock, notifier) for _ in range(2)]
    leader, standby = (
        DigestScheduler(j, trigger, LeaderLock(ENGINES[-2 + n])) for n, j in enumerate(jobs)
    )
    admin = database.engine()
    try:
        assert await leader.step() is True
        assert await standby.step() is False
        assert await standby.step() is False  # retried: still held
        async with admin.connect() as conn:  # the leader's process dies: its session ends
            pid = await holder(conn, leader.lock.name, database.schema)
            await conn.execute(sa.select(sa.func.pg_terminate_backend(pid)))
        for _ in range(50):
            if await standby.step():
                break
            await asyncio.sleep(0.02)  # the server needs a moment to end the session
        assert standby.leading
        assert await leader.step() is False  # notices the dead connection, cannot retake
        assert not leader.leading
    finally:
        await leader.close()
        await standby.close()
        await dispose_all()
        await admin.dispose()


async def test_losing_the_leader_lock_in_an_outage_is_one_warning_line(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    if database.kind != "postgres":
        pytest.skip("advisory locks are a PostgreSQL feature")
    proxy = await CuttableProxy(database.url).start()
    cut = Database("postgres", proxy.url, database.schema)
    clock = Clock(datetime.combine(START, time(8), tzinfo=BERLIN))
    digests = job(cut, clock, RecordingNotifier())
    scheduler = DigestScheduler(digests, digest_trigger("09:00", BERLIN), LeaderLock(ENGINES[-1]),
                                retry_s=0.02)  # fmt: skip
    serving = asyncio.create_task(scheduler.serve())
    try:
        for _ in range(100):
            if scheduler.leading:
                break
            await asyncio.sleep(0.01)
        assert scheduler.leading
        caplog.clear()
        await proxy.cut()  # the database goes away: the lock's session with it
        for _ in range(100):
            if not scheduler.leading:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # a few more rounds while the database stays away
        assert not scheduler.leading  # another replica may lead now: this one stops
        problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert problems and all(r.exc_info is None for r in problems), caplog.text
        assert len({r.getMessage() for r in problems}) <= 2, caplog.text  # no new line per round
        assert "Traceback" not in caplog.text
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await proxy.close()
        await dispose_all()
