"""The quality counts (per tier, and the period's votes and escalations) read from the hourly
quality totals equal the same counts over the raw calls, judgements and votes, through inserts,
changed votes and scores, moved calls and deletions, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.ledger import Ledger
from storage.quality import QualityData
from storage.tables import calls_t, feedback_t, judgements_t, messages_t, quality_hours_t
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread
from tests.storage.revisions import downgrade

START = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)


async def seed(db: AsyncEngine, rng: random.Random) -> None:
    thread_id, _ = await make_thread(db)
    async with db.begin() as conn:
        result = await conn.execute(
            sa.insert(messages_t).returning(messages_t.c.id),
            [{"thread_id": thread_id, "role": "user", "text": f"q{i}"} for i in range(40)],
        )
        messages = list(result.scalars())
    calls = []
    for _ in range(240):
        escalation = rng.random() < 0.15
        calls.append(call_values(
            (thread_id, rng.choice(messages)),
            START + timedelta(minutes=rng.uniform(0, 2 * 24 * 60)),
            tier=rng.choice([None, "budget", "balanced", "premium"]),
            purpose=rng.choice(["answer"] * 5 + ["judge", "shadow"]),
            status=rng.choice(["ok", "ok", "ok", "error", "incomplete"]),
            escalation=escalation,
        ))  # fmt: skip
    await insert_calls(db, calls)
    async with db.begin() as conn:
        ids = list((await conn.execute(sa.select(calls_t.c.id))).scalars())
        judged = rng.sample(ids, 90)
        await conn.execute(sa.insert(judgements_t), [
            {"call_id": i, "score": rng.choice([None, *range(1, 11)])} for i in judged
        ])  # fmt: skip
        votes = [(i, f"u{n}") for i in rng.sample(ids, 60) for n in range(rng.randrange(1, 3))]
        await conn.execute(sa.insert(feedback_t), [
            {"call_id": i, "user": user, "value": rng.choice([1, -1])} for i, user in votes
        ])  # fmt: skip


async def change(db: AsyncEngine, rng: random.Random) -> None:
    """Changed minds and scores, moved and re-typed calls, deletions."""
    async with db.begin() as conn:
        await conn.execute(sa.update(feedback_t).where(feedback_t.c.id % 3 == 0)
                           .values(value=-feedback_t.c.value))  # fmt: skip
        await conn.execute(sa.delete(feedback_t).where(feedback_t.c.id % 7 == 0))
        await conn.execute(sa.update(judgements_t).where(judgements_t.c.id % 4 == 0)
                           .values(score=3))  # fmt: skip
        await conn.execute(sa.delete(judgements_t).where(judgements_t.c.id % 9 == 0))
        moved = await conn.execute(sa.select(calls_t.c.id, calls_t.c.created_at)
                                   .where(calls_t.c.id % 5 == 0))  # fmt: skip
        for call_id, created_at in moved.all():  # its scores and votes move with it
            later = created_at + timedelta(hours=rng.choice([1, 7, 30]))
            await conn.execute(sa.update(calls_t).where(calls_t.c.id == call_id)
                               .values(tier="premium", created_at=later))  # fmt: skip
        await conn.execute(sa.update(calls_t).where(calls_t.c.id % 6 == 0)
                           .values(status="ok", escalation=sa.not_(calls_t.c.escalation)))
        await conn.execute(sa.update(calls_t).where(calls_t.c.id % 5 == 1).values(reasons="x"))
        unreferenced = sa.and_(
            calls_t.c.id % 8 == 0,
            calls_t.c.id.not_in(sa.select(judgements_t.c.call_id)),
            calls_t.c.id.not_in(sa.select(feedback_t.c.call_id)),
        )
        await conn.execute(sa.delete(calls_t).where(unreferenced))


async def raw(db: AsyncEngine) -> tuple[list[Any], dict[int, Any], dict[int, list[int]]]:
    async with db.connect() as conn:
        calls = (await conn.execute(sa.select(calls_t))).all()
        scores = {r.call_id: r.score for r in await conn.execute(sa.select(judgements_t))}
        votes: dict[int, list[int]] = defaultdict(list)
        for r in await conn.execute(sa.select(feedback_t)):
            votes[r.call_id].append(r.value)
    return calls, scores, votes


def oracle(
    data: tuple[list[Any], dict[int, Any], dict[int, list[int]]], start: datetime, end: datetime
) -> tuple[dict[str, tuple[int, ...]], tuple[int, int, int]]:
    """By tier as the page defines it, and (thumbs up, down, escalated questions)."""
    calls, scores, votes = data
    inside = [c for c in calls if start <= c.created_at < end]
    escalated = {c.message_id for c in calls
                 if c.escalation and c.purpose == "answer" and c.created_at >= start}  # fmt: skip
    tiers: dict[str, list[int]] = {}
    for c in inside:
        if c.purpose != "answer":
            continue
        t = tiers.setdefault(c.tier or "", [0] * 7)
        first = c.status == "ok" and not c.escalation
        t[0] += first
        t[1] += first and c.message_id in escalated
        score = scores.get(c.id)
        if score is not None:
            t[2], t[3], t[4] = t[2] + 1, t[3] + score, t[4] + score * score
        t[5] += sum(v > 0 for v in votes[c.id])
        t[6] += sum(v < 0 for v in votes[c.id])
    up = sum(v > 0 for c in inside for v in votes[c.id])
    down = sum(v < 0 for c in inside for v in votes[c.id])
    asked = {c.message_id for c in inside if c.escalation and c.purpose == "answer"}
    return {tier: tuple(v) for tier, v in tiers.items()}, (up, down, len(asked))


async def assert_quality_equals_raw(db: AsyncEngine) -> None:
    data = await raw(db)
    windows = [(START - timedelta(days=1), START + timedelta(days=4)),  # every hour whole
               (START + timedelta(minutes=17), START + timedelta(hours=30, minutes=5)),
               (START + timedelta(hours=3, minutes=1), START + timedelta(hours=3, minutes=50))]
    for start, end in windows:
        tiers, (up, down, escalations) = oracle(data, start, end)
        found = await QualityData(db).by_tier(start=start, end=end)
        got = {q.tier: (q.first_answers, q.escalated, q.judged, q.judge_sum,
                        q.judge_sum_squares, q.thumbs_up, q.thumbs_down) for q in found}
        assert got == tiers, (start, end)
        counts = await Ledger(db).quality_counts(start=start, end=end)
        assert (counts.thumbs_up, counts.thumbs_down, counts.escalations) == (
            up, down, escalations), (start, end)  # fmt: skip


async def test_quality_from_the_hourly_counts_equals_the_raw_rows(database: Database) -> None:
    db = database.engine()
    rng = random.Random(11)
    try:
        await seed(db, rng)
        await assert_quality_equals_raw(db)
        await change(db, rng)
        await assert_quality_equals_raw(db)
        async with db.connect() as conn:  # the page's whole hours were read from the totals
            assert await conn.scalar(sa.select(sa.func.sum(quality_hours_t.c.judged))) > 0
    finally:
        await db.dispose()


async def test_the_migration_sums_the_quality_of_the_rows_already_there(
    database: Database,
) -> None:
    from storage.database import upgrade

    db = database.engine()
    rng = random.Random(12)
    try:
        await downgrade(db, "0012")
        await seed(db, rng)  # before migration 0013: no quality triggers
        await upgrade(db)
        await assert_quality_equals_raw(db)
        await change(db, rng)
        await assert_quality_equals_raw(db)
    finally:
        await db.dispose()
