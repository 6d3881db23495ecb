"""Budgets through the real engine: block and downgrade at 100%, one alert per threshold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from storage.ledger import Ledger
from storage.tables import calls_t
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, RecordingNotifier, Scripted
from tests.rows import call_values, insert_calls, make_thread, rows

DAY = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def ask(text: str, event: str, user: str = "u1", channel: str = "c1") -> Incoming:
    return Incoming("console", "local", channel, f"t-{event}", user, text, event)


async def test_block_at_100_percent_answers_with_reset_time_and_calls_no_llm(
    database: Database, make_app: MakeApp
) -> None:
    alerts = RecordingNotifier()
    app = await make_app(
        database,
        budget_daily_usd=0.000001,
        budget_action="block",
        timezone="Europe/Berlin",
        notifiers=[alerts],
    )
    first = await app.engine.handle(ask("What are your hours?", "e1"), ConsoleReply(echo=False))
    assert first.status == "answered"
    reply = ConsoleReply(echo=False)
    second = await app.engine.handle(ask("And on Sunday?", "e2"), ConsoleReply(echo=False))
    blocked = await app.engine.handle(ask("Still there?", "e3"), reply)
    assert second.status == blocked.status == "blocked"
    assert reply.error and "daily budget ($0.000001) is spent" in reply.error
    assert "resets at 00:00 on" in reply.error and "(Europe/Berlin)" in reply.error
    assert len(await app.stores.ledger.call_rows()) == 1  # no LLM call once it is spent
    assert [n.title for n in alerts.notices] == ["Budget alert: daily budget at 100%"]


async def test_downgrade_at_100_percent_caps_the_strategy_at_budget(
    database: Database, make_app: MakeApp
) -> None:
    # The seed row below is written behind the app's back (like another replica): read the
    # ledger at every check rather than every BUDGET_REFRESH_S seconds.
    app = await make_app(database, budget_channel_daily_usd=0.5, budget_action="downgrade",
                         budget_refresh_s=0)  # fmt: skip
    db = app.stores.db
    first = await app.engine.handle(ask("!premium Hi?", "e1"), ConsoleReply(echo=False))
    thread = await make_thread(db, "c1", "seed", platform="console", workspace="local")
    await insert_calls(
        db,
        [call_values(thread, datetime.now(UTC), workspace="local", cost_nano_usd=500_000_000)],
    )
    capped = await app.engine.handle(ask("!premium Hi again?", "e2"), ConsoleReply(echo=False))
    other_channel = await app.engine.handle(
        ask("!premium Hi there?", "e3", channel="c2"), ConsoleReply(echo=False)
    )
    assert first.status == capped.status == other_channel.status == "answered"
    tiers = [m.tier for m in (first.meta, capped.meta, other_channel.meta) if m]
    assert tiers == ["premium", "budget", "premium"]
    answers = [c for c in await rows(db, calls_t) if c.message_id != thread[1]]
    assert "capped at budget by the budget guard" in answers[1].reasons


async def test_eight_concurrent_calls_crossing_80_percent_alert_once(
    database: Database, make_app: MakeApp
) -> None:
    alerts = RecordingNotifier()
    app = await make_app(database, budget_daily_usd=1.0, notifiers=[alerts], budget_refresh_s=0)
    ledger, db = app.stores.ledger, app.stores.db
    await app.engine.handle(ask("Warm up?", "w"), ConsoleReply(echo=False))
    spent = (await ledger.total(start=DAY[0], end=DAY[1])).nano_usd
    thread = await make_thread(db, "c9", "seed", platform="console", workspace="local")
    # One nano-dollar short of 80%: whichever concurrent call lands first crosses it.
    seed = 800_000_000 - spent - 1
    await insert_calls(db, [call_values(thread, datetime.now(UTC), cost_nano_usd=seed)])
    outcomes = await asyncio.gather(
        *(
            app.engine.handle(
                ask(f"Question number {i}?", f"e{i}", user=f"u{i}"), ConsoleReply(echo=False)
            )
            for i in range(8)
        )
    )
    assert [o.status for o in outcomes] == ["answered"] * 8
    after = (await ledger.total(start=DAY[0], end=DAY[1])).nano_usd
    assert 800_000_000 <= after < 1_000_000_000
    assert [n.title for n in alerts.notices] == ["Budget alert: daily budget at 80%"]


async def test_unknown_price_calls_are_flagged_counted_and_alerted_once(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    mystery = "acme/mystery-1"  # a model no price list knows, on a plain OpenAI-style API
    provider.enqueue(Scripted(model=mystery, usage=(10, 20), repeat=3))
    alerts = RecordingNotifier()
    app = await make_app(
        sqlite_db,
        fixed_model=mystery,
        routing_strategy="fixed",
        budget_daily_usd=1.0,
        notifiers=[alerts],
    )
    for i in range(3):
        outcome = await app.engine.handle(ask(f"Q{i}?", f"e{i}"), ConsoleReply(echo=False))
        assert outcome.meta and outcome.meta.cost_nano_usd is None
    ledger: Ledger = app.stores.ledger
    calls = await ledger.call_rows()
    assert [(r.cost_source, r.cost_nano_usd) for r in calls] == [("unpriced", None)] * 3
    summary = await ledger.total(start=DAY[0], end=DAY[1])
    assert (summary.unpriced_calls, summary.calls, summary.nano_usd) == (3, 3, 0)
    assert [n.title for n in alerts.notices] == ["Unknown price: acme/mystery-1"]
