"""Shadow comparisons through the real engine: a sample of answers is answered again by another
tier in the background and judged; the spend is on the ledger with its own purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from bot.errors import ConfigError
from bot.learning.shadow import shadow_sampled
from bot.learning.verdict import PAIR_PROMPT
from routing.config import load_routing
from storage.tables import calls_t
from tests.bot.experiments.helpers import routing_file
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted
from tests.rows import rows

JUDGE = "anthropic/claude-haiku-4-5"  # not any tier's first model
ALWAYS = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
TIERS = load_routing().tiers
TIERED_AB = """
[[experiments]]
name = "ab"
target_threads = 50
variants = [{name = "A", strategy = "tiered"}, {name = "B", strategy = "keyword"}]
"""


def ask(text: str, event: str) -> Incoming:
    return Incoming("console", "w", "c1", f"t-{event}", "u1", text, event)


async def test_sampled_answers_are_answered_by_premium_and_judged_in_the_background(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, tmp_path: Path
) -> None:
    # The judge always prefers answer A as sent; the store must undo the random page order.
    provider.enqueue(Scripted(text="A: 9\nB: 4\nA is complete.", model=JUDGE, repeat=100))
    app = await make_app(
        sqlite_db,
        routing_file=routing_file(tmp_path, TIERED_AB),
        shadow_sample_rate=1.0,
        judge_model=JUDGE,
        judge_sample_rate=0.0,
    )
    assert app.shadow is not None
    outcomes = []
    for i in range(6):
        question = ask(f"!budget How do I export invoice {i}?", f"e{i}")
        outcomes.append(await app.engine.handle(question, ConsoleReply(echo=False)))
    assert all(o.status == "answered" and o.meta and o.meta.tier == "budget" for o in outcomes)
    await app.shadow.drain()
    calls = await rows(app.stores.db, calls_t)
    answers = [c for c in calls if c.purpose == "answer"]
    shadows = [c for c in calls if c.purpose == "shadow"]
    judges = [c for c in calls if c.purpose == "judge"]
    assert len(answers) == len(shadows) == len(judges) == 6
    assert {(c.model_asked, c.tier) for c in shadows} == {(TIERS["premium"][0], "premium")}
    assert all(c.cost_nano_usd and c.cost_nano_usd > 0 for c in shadows + judges)
    comparisons = await app.stores.learning.comparisons()
    assert len(comparisons) == 6
    for comparison in comparisons:
        swapped = shadow_sampled(comparison.message_id, 0.5)
        expected = (4, 9) if swapped else (9, 4)  # A was the shadow answer when swapped
        assert (comparison.answered_score, comparison.shadow_score) == expected
        assert (comparison.answered_tier, comparison.shadow_tier) == ("budget", "premium")
        assert comparison.question.startswith("How do I export invoice")
        assert comparison.shadow_cost_nano_usd and comparison.answered_cost_nano_usd
        assert comparison.router_score is None  # a forced tier is not the analyzer's score
    judge_requests = [r for r in provider.requests if r.model == JUDGE]
    assert judge_requests[0].messages[0].content == PAIR_PROMPT
    assert "ANSWER A:" in judge_requests[0].messages[1].content
    # Experiment variants count answers only: shadow and judge spend is kept out.
    stats = await app.stores.experiments.thread_stats("ab")
    assert sum(r.cost_nano_usd for r in stats) == sum(c.cost_nano_usd for c in answers)
    assert sum(r.calls for r in stats) == 6
    # The digest shows what the savings cost in quality next to them.
    today = datetime.now(UTC).astimezone(app.digest.zone).date()
    notice = await app.digest.notice(today, chart=False)
    (heading, lines) = notice.notes[0]
    assert heading == "Judged quality, last 30 days"
    assert lines[0].startswith("budget answers: not enough data (6 judged")


async def test_shadowing_pauses_past_the_first_budget_threshold(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(text="A: 7\nB: 7", model=JUDGE, repeat=100))
    app = await make_app(
        sqlite_db,
        routing_strategy="tiered",
        shadow_sample_rate=1.0,
        judge_model=JUDGE,
        judge_sample_rate=0.0,
        budget_daily_usd=0.001,
        budget_alert_thresholds="50,100",
    )
    assert app.shadow is not None
    spent = 0
    for i in range(12):
        await app.engine.handle(
            ask(f"!budget Where is order {i}?", f"p{i}"), ConsoleReply(echo=False)
        )
        await app.shadow.drain()
        spent = (await app.stores.ledger.spend_total(start=ALWAYS[0], end=ALWAYS[1])).nano_usd
        if spent * 100 >= 1_000_000 * 50:
            break
    assert spent * 100 >= 1_000_000 * 50, "the test needs the budget past 50%"
    before = len([c for c in await rows(app.stores.db, calls_t) if c.purpose == "shadow"])
    await app.engine.handle(ask("!budget And one more?", "after"), ConsoleReply(echo=False))
    await app.shadow.drain()
    after = len([c for c in await rows(app.stores.db, calls_t) if c.purpose == "shadow"])
    assert before > 0 and after == before


async def test_shadowing_needs_a_judge(sqlite_db: Database, make_app: MakeApp) -> None:
    with pytest.raises(ConfigError, match="JUDGE_MODEL"):
        await make_app(sqlite_db, shadow_sample_rate=0.05)
