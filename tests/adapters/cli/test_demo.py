"""`switchboard demo` end to end: the conversation set through the real engine into SQLite."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.cli.demo import load_conversations, run_demo
from tests.conftest import MakeSettings


async def test_demo_plays_both_strategies_and_reports_savings(make_settings: MakeSettings) -> None:
    settings = make_settings(llm_api_key=None)  # no key: the built-in simulator
    out = io.StringIO()
    rows = await run_demo(settings, Console(file=out, width=200), simulator_speed=0.0)
    questions = sum(len(c.messages) for c in load_conversations())
    fixed = [r for r in rows if r.strategy == "fixed" and r.status == "ok"]
    tiered = [r for r in rows if r.strategy == "tiered" and r.status == "ok"]
    assert len(fixed) == len(tiered) == questions
    assert {r.model for r in fixed} == {"anthropic/claude-opus-4-5"}
    assert {r.tier for r in tiered} == {"budget", "balanced", "premium"}
    cost = {name: sum(r.cost_nano_usd or 0 for r in group)
            for name, group in (("fixed", fixed), ("tiered", tiered))}  # fmt: skip
    assert 0 < cost["tiered"] < cost["fixed"]
    printed = out.getvalue()
    assert "Strategies compared" in printed and "savings" in printed
    assert (settings.data_dir / "demo.db").exists()
    # Then one answer from the docs (the bundled pages: the test's home has no shared/ beside
    # it), with its source.
    assert "bot> " in printed
    assert "source: Billing and invoices › Change your VAT ID — billing.md" in printed
