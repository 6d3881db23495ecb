"""SIMULATION through the real engine with an in-memory provider: variant B costs 40% less
(the same simulated answers at 60% of the price) with the same quality (seeded simulated users
give thumbs-up with the same probability in both variants)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from pathlib import Path

from adapters.composition import build
from adapters.llm.simulator_profiles import seeded_rng
from bench.ab_simulation import (
    LEAN,
    STANDARD,
    SimulatedUsers,
    settings_for,
    simulate,
    write_routing,
)
from bot.experiments.report import build_report
from bot.llm.pricing import estimate_tokens
from bot.llm.types import ChatRequest, StreamResult, Usage
from storage.database import create_engine
from storage.tables import utcnow
from tests.conftest import migrated_copy

TARGET = 120
PRICES = {m.name: (m.input_usd_per_mtok, m.output_usd_per_mtok) for m in (STANDARD, LEAN)}


class PricedAnswers:
    """SIMULATION: an in-memory provider whose answer length depends on the question only and
    whose reported cost is that length at the asked model's list price."""

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        question = request.messages[-1].content
        words = 80 + seeded_rng("answer", question).randrange(180)
        text = " ".join(["word"] * words)
        yield text
        usage = Usage(sum(estimate_tokens(m.content) for m in request.messages), words)
        price_in, price_out = PRICES[request.model]
        cost = (price_in * usage.input_tokens + price_out * usage.output_tokens) / 1_000_000
        yield StreamResult(text, request.model, usage, Decimal(cost), 1, 1)


async def test_forty_percent_cheaper_variant_is_recommended_at_the_target_and_not_before(
    tmp_path: Path, sqlite_template: Path
) -> None:
    routing = write_routing(tmp_path / "routing.toml", TARGET)
    url = f"sqlite+aiosqlite:///{migrated_copy(sqlite_template, tmp_path / 'ab.db')}"
    users = SimulatedUsers(seed=5, thumbs_up=0.995, follow_up=0.1, solved=0.3)
    app = await build(
        settings_for(url, routing, 0.0), db=create_engine(url), provider=PricedAnswers()
    )
    try:
        (experiment,) = app.routing.experiments
        done, early_checks, early_cheaper = 0, 0, 0
        while True:
            await simulate(app, done, 40, users)
            done += 40
            report = await build_report(app.stores.experiments, experiment, utcnow())
            smallest = min(v.threads for v in report.variants)
            if smallest >= TARGET:
                break
            early_checks += 1
            assert report.recommendation is None
            assert report.verdict.startswith(
                f"not enough data yet: {TARGET - smallest} more threads per variant"
            )
            early_cheaper += report.comparisons[0].cheaper_enough
    finally:
        await app.close()
    assert early_checks >= 4
    # The cost difference was already clear before the target: only the gate held it back.
    assert early_cheaper >= 2
    assert report.recommendation == "B", report.verdict
    assert report.verdict.startswith("switch to B: cost x0.")
    (comparison,) = report.comparisons
    assert comparison.cost_ratio is not None and 0.55 < comparison.cost_ratio.value < 0.65
    assert comparison.cost_ratio.interval.high < 0.90
    assert comparison.thumbs_up is not None and comparison.thumbs_up.interval.low > -0.05
