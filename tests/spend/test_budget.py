"""Budgets through the real engine: block and downgrade at 100%, one alert per threshold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from adapters.cli.console import ConsoleReply
from adapters.composition import build_app
from adapters.llm.simulator import LLMSimulator
from adapters.llm.simulator_profiles import ModelProfile
from bot.conversation.messages import Incoming
from storage.ledger import call_rows, total
from tests.conftest import Database, MakeApp, MakeSettings
from tests.spend.fakes import RecordingNotifier, RecordingStrategy
from tests.spend.ledger_rows import call_values, insert_calls, make_thread

DAY = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def ask(text: str, event: str, user: str = "u1", channel: str = "c1") -> Incoming:
    return Incoming("console", "local", channel, f"t-{event}", user, text, event)


async def test_block_at_100_percent_answers_with_reset_time_and_calls_no_llm(
    database: Database, make_app: MakeApp
) -> None:
    app = await make_app(
        database, budget_daily_usd=0.000001, budget_action="block", timezone="Europe/Berlin"
    )
    alerts = RecordingNotifier()
    app.notifiers.append(alerts)
    first = await app.engine.handle(ask("What are your hours?", "e1"), ConsoleReply(echo=False))
    assert first.status == "answered"
    reply = ConsoleReply(echo=False)
    second = await app.engine.handle(ask("And on Sunday?", "e2"), ConsoleReply(echo=False))
    blocked = await app.engine.handle(ask("Still there?", "e3"), reply)
    assert second.status == blocked.status == "blocked"
    assert reply.error and "daily budget ($0.000001) is spent" in reply.error
    assert "resets at 00:00 on" in reply.error and "(Europe/Berlin)" in reply.error
    assert len(await call_rows(app.db)) == 1  # no LLM call once the budget is spent
    assert [n.text.splitlines()[0] for n in alerts.notices] == [
        "Budget alert: daily budget at 100%"
    ]


async def test_downgrade_at_100_percent_caps_the_strategy_at_budget(
    database: Database, make_app: MakeApp
) -> None:
    app = await make_app(database, budget_channel_daily_usd=0.5, budget_action="downgrade")
    name = app.settings.routing_strategy
    recorder = RecordingStrategy(app.strategies[name])
    app.strategies[name] = recorder
    assert (await app.engine.handle(ask("Hi?", "e1"), ConsoleReply(echo=False))).status == (
        "answered"
    )
    thread = await make_thread(app.db, "c1", "seed", platform="console", workspace="local")
    await insert_calls(
        app.db,
        [call_values(thread, datetime.now(UTC), workspace="local", cost_nano_usd=500_000_000)],
    )
    outcome = await app.engine.handle(ask("Hi again?", "e2"), ConsoleReply(echo=False))
    other_channel = await app.engine.handle(
        ask("Hi there?", "e3", channel="c2"), ConsoleReply(echo=False)
    )
    assert outcome.status == other_channel.status == "answered"
    assert [r.ceiling_tier for r in recorder.requests] == [None, "budget", None]
    assert outcome.meta and outcome.meta.tier in ("budget", None)


async def test_eight_concurrent_calls_crossing_80_percent_alert_once(
    database: Database, make_app: MakeApp
) -> None:
    app = await make_app(database, budget_daily_usd=1.0)
    alerts = RecordingNotifier()
    app.notifiers.append(alerts)
    await app.engine.handle(ask("Warm up?", "w"), ConsoleReply(echo=False))
    spent = (await total(app.db, start=DAY[0], end=DAY[1])).nano_usd
    thread = await make_thread(app.db, "c9", "seed", platform="console", workspace="local")
    # One nano-dollar short of 80%: whichever concurrent call lands first crosses it.
    seed = 800_000_000 - spent - 1
    await insert_calls(app.db, [call_values(thread, datetime.now(UTC), cost_nano_usd=seed)])
    outcomes = await asyncio.gather(
        *(
            app.engine.handle(
                ask(f"Question number {i}?", f"e{i}", user=f"u{i}"), ConsoleReply(echo=False)
            )
            for i in range(8)
        )
    )
    assert [o.status for o in outcomes] == ["answered"] * 8
    after = (await total(app.db, start=DAY[0], end=DAY[1])).nano_usd
    assert 800_000_000 <= after < 1_000_000_000
    assert [n.text.splitlines()[0] for n in alerts.notices] == ["Budget alert: daily budget at 80%"]


async def test_unknown_price_calls_are_flagged_counted_and_alerted_once(
    sqlite_db: Database, make_settings: MakeSettings
) -> None:
    unknown = ModelProfile("acme/mystery-1", Decimal("1"), Decimal("2"), 10, 100.0, (20, 40))
    async with LLMSimulator(
        seed=3, speed=0.0, report_cost=False, profiles={unknown.name: unknown}
    ) as sim:
        settings = make_settings(
            database_url=sqlite_db.url,
            fixed_model=unknown.name,
            routing_strategy="fixed",
            budget_daily_usd=1.0,
        )
        app = await build_app(settings, llm_base_url=sim.base_url, db=sqlite_db.engine())
        try:
            alerts = RecordingNotifier()
            app.notifiers.append(alerts)
            for i in range(3):
                outcome = await app.engine.handle(ask(f"Q{i}?", f"e{i}"), ConsoleReply(echo=False))
                assert outcome.meta and outcome.meta.cost_nano_usd is None
            rows = await call_rows(app.db)
            assert [(r.cost_source, r.cost_nano_usd) for r in rows] == [("unpriced", None)] * 3
            summary = await total(app.db, start=DAY[0], end=DAY[1])
            assert (summary.unpriced_calls, summary.calls, summary.nano_usd) == (3, 3, 0)
            assert [n.text.splitlines()[0] for n in alerts.notices] == [
                "Unknown price: acme/mystery-1"
            ]
        finally:
            await app.close()
