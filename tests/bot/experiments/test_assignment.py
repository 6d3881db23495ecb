from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.engine import Assignment
from bot.conversation.messages import Incoming
from bot.errors import ConfigError
from bot.experiments.assignment import ExperimentPicker
from bot.experiments.config import Experiment, Variant, parse_experiments
from routing.strategy import FixedStrategy
from storage.records import StartedTurn, ThreadRef
from storage.tables import calls_t, threads_t
from tests.bot.experiments.helpers import ask, fixed_ab, routing_file
from tests.conftest import Database, MakeApp


def test_ten_thousand_threads_split_within_one_percent_of_the_weights() -> None:
    experiment = Experiment(
        "split",
        (
            Variant("a", "fixed", "m1", 70),
            Variant("b", "fixed", "m2", 20),
            Variant("c", "tiered", None, 10),
        ),
    )
    keys = [ThreadRef("slack", "T1", "C1", f"{1700000000 + i}.{i:06d}").key for i in range(10_000)]
    counts = {"a": 0, "b": 0, "c": 0}
    for key in keys:
        counts[experiment.variant_for(key).name] += 1
    assert abs(counts["a"] / 10_000 - 0.70) < 0.01
    assert abs(counts["b"] / 10_000 - 0.20) < 0.01
    assert abs(counts["c"] / 10_000 - 0.10) < 0.01
    # Stable: a fresh object (as in a new process) gives every thread the same variant.
    again = Experiment("split", experiment.variants)
    assert all(again.variant_for(k) == experiment.variant_for(k) for k in keys)
    # The experiment name is part of the hash: another experiment splits threads independently.
    other = Experiment("other", experiment.variants)
    assert sum(other.variant_for(k) != experiment.variant_for(k) for k in keys) > 3000


def test_parse_errors_name_the_field() -> None:
    good = {
        "name": "x",
        "variants": [
            {"name": "A", "strategy": "fixed", "model": "m"},
            {"name": "B", "strategy": "tiered"},
        ],
    }
    (parsed,) = parse_experiments([good], ("fixed", "tiered"))
    assert parsed.control.name == "A" and parsed.variants[1].model is None
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.variants: .*at least 2"):
        parse_experiments([{**good, "variants": good["variants"][:1]}])
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.variants\.1\.strategy: unknown"):
        parse_experiments(
            [{**good, "variants": [good["variants"][0], {"name": "B", "strategy": "nope"}]}],
            ("fixed",),
        )
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.start: .*timezone"):
        parse_experiments([{**good, "start": datetime(2026, 1, 1)}])
    with pytest.raises(ConfigError, match=r"experiments\[0\]: .*stop must be after start"):
        start = datetime(2026, 1, 2, tzinfo=UTC)
        parse_experiments([{**good, "start": start, "stop": start - timedelta(days=1)}])
    with pytest.raises(ConfigError, match=r"experiments\[1\]\.name: duplicate"):
        parse_experiments([good, good])
    with pytest.raises(ConfigError, match=r"experiments\[0\]\.weight: Extra inputs"):
        parse_experiments([{**good, "weight": 3}])


async def test_threads_keep_their_variant_across_messages_and_new_apps(
    sqlite_db: Database, make_app: MakeApp, tmp_path: Path
) -> None:
    path = routing_file(tmp_path, fixed_ab())
    app = await make_app(sqlite_db, routing_file=path)
    threads = [f"t{i}" for i in range(24)]
    for thread in threads:
        assert (await ask(app, thread, "How do I reset my password?", f"{thread}-1")).status == (
            "answered"
        )
    first = await _variants(app.stores.db)
    assert set(first.values()) == {"A", "B"}
    # A new app (new picker) over the same database: every thread keeps its variant.
    again = await make_app(sqlite_db, routing_file=path)
    for thread in threads:
        await ask(again, thread, "And my username?", f"{thread}-2")
    async with again.stores.db.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(calls_t.c.thread_id, calls_t.c.variant, calls_t.c.model_asked)
            )
        ).all()
    assert len(rows) == 48
    for row in rows:
        assert row.variant == first[row.thread_id]
        assert row.model_asked == ("openai/gpt-4o" if row.variant == "A" else "openai/gpt-4o-mini")


async def _variants(db: AsyncEngine) -> dict[int, str]:
    async with db.connect() as conn:
        rows = (await conn.execute(sa.select(threads_t.c.id, threads_t.c.variant))).all()
    return {r.id: r.variant for r in rows}


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_window_new_threads_before_start_and_after_stop_get_the_default() -> None:
    now = datetime.now(UTC)
    experiment = Experiment(
        "win",
        (Variant("A", "fixed", "m-a"), Variant("B", "fixed", "m-b")),
        channels=("c1",),
        start=now - timedelta(hours=1),
        stop=now + timedelta(hours=1),
    )
    clock = _Clock(now)
    default = FixedStrategy("m-default")
    picker = ExperimentPicker([experiment], {"fixed": default}, "fixed", clock)

    def msg(thread: str, channel: str = "c1") -> Incoming:
        return Incoming("console", "local", channel, thread, "u1", "q", uuid.uuid4().hex)

    def turn(created: datetime, experiment: str | None = None, variant: str | None = None
             ) -> StartedTurn:  # fmt: skip
        return StartedTurn(1, 1, experiment, variant, thread_created_at=created)

    old = turn(now - timedelta(hours=2))  # a thread that began before the experiment started
    assert (await_(picker, msg("old"), old)).experiment is None
    chosen = await_(picker, msg("new"), turn(now))
    assert chosen.experiment == "win" and chosen.variant in {"A", "B"}
    assert await_(picker, msg("new", "c2"), turn(now)).experiment is None  # out of scope
    enrolled = turn(now, "win", chosen.variant)
    kept = await_(picker, msg("new"), enrolled)
    assert (kept.experiment, kept.variant) == ("win", chosen.variant)
    clock.now = now + timedelta(hours=2)  # stopped: even enrolled threads get the default
    after = await_(picker, msg("new"), enrolled)
    assert after.experiment is None and after.strategy is default
    clock.now = now - timedelta(hours=3)  # not started yet
    assert await_(picker, msg("new"), turn(now)).strategy is default


def await_(picker: ExperimentPicker, incoming: Incoming, turn: StartedTurn) -> Assignment:
    return asyncio.run(picker.pick(incoming, turn))
