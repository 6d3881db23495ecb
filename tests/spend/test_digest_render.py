"""The digest's figures, and its Slack, Discord and chart forms within each platform's limits."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import matplotlib.image
from rich.console import Console

from bot.spend.chart import PNG_MAGIC, spend_chart
from bot.spend.digest import build_digest
from bot.spend.digest_render import discord_embed, embed_size, notice, print_terminal, slack_blocks
from tests.conftest import Database
from tests.spend.ledger_rows import call_values, insert_calls, make_thread

ZONE = ZoneInfo("America/New_York")
DAY = date(2026, 11, 2)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


async def test_digest_figures_from_the_ledger(sqlite_db: Database) -> None:
    engine = sqlite_db.engine()
    try:
        thread = await make_thread(engine, "support", "T1")
        other = await make_thread(engine, "billing", "T2")
        await insert_calls(
            engine,
            [
                call_values(
                    thread,
                    at(DAY, 10),
                    cost_nano_usd=3_000,
                    baseline_cost_nano_usd=9_000,
                    tier="budget",
                    latency_ms=100,
                ),
                call_values(
                    other,
                    at(DAY, 23),
                    channel="billing",
                    cost_nano_usd=7_000,
                    baseline_cost_nano_usd=11_000,
                    tier="premium",
                    latency_ms=300,
                ),
                call_values(
                    other,
                    at(DAY, 11),
                    channel="billing",
                    cost_nano_usd=None,
                    cost_source="unpriced",
                    baseline_cost_nano_usd=None,
                ),
                call_values(
                    thread,
                    at(DAY, 12),
                    cost_nano_usd=0,
                    cost_source="unbilled",
                    status="error",
                    latency_ms=None,
                    baseline_cost_nano_usd=None,
                ),
                call_values(thread, at(DAY - timedelta(1), 9), cost_nano_usd=5_000),
                call_values(thread, at(DAY - timedelta(3), 9), cost_nano_usd=2_000),
                call_values(thread, at(DAY + timedelta(1), 0), cost_nano_usd=10**9),  # next day
            ],
        )
        d = await build_digest(
            engine, DAY, ZONE, baseline_model="m/base", monthly_budget_nano_usd=50_000
        )
    finally:
        await engine.dispose()
    t = d.totals
    assert (t.nano_usd, t.calls, t.errors, t.unpriced_calls) == (10_000, 4, 1, 1)
    assert (t.baseline_nano_usd, t.savings_nano_usd) == (20_000, 10_000)
    assert d.savings_percent == 50.0
    assert d.previous_day_nano_usd == 5_000 and d.change_vs_previous == 100.0
    assert d.week_average_nano_usd == 7_000 // 7
    assert d.month_to_date_nano_usd == 15_000  # Nov 1 and 2, not Oct 30 nor Nov 3
    assert [(g.key[0], g.nano_usd) for g in d.by_channel] == [("billing", 7_000), ("c1", 3_000)]
    assert d.top_threads[0].key == ("billing/T2",)
    assert (d.p50_ms, d.p95_ms) == (300.0, 480.0)  # of 100, 300, 500: 300 + 0.9 * 200
    assert d.flagged_calls == 1
    assert sum(sum(v) for v in d.chart_series.values()) == 17_000
    out = io.StringIO()
    print_terminal(d, Console(file=out, width=120))
    assert "Saved by routing" in out.getvalue() and "billing/T2" in out.getvalue()


async def test_slack_and_discord_forms_stay_within_limits(sqlite_db: Database) -> None:
    engine = sqlite_db.engine()
    try:
        rows = []
        for i in range(40):  # long names everywhere: the renderers must clip, not overflow
            thread = await make_thread(engine, "c" * 200 + str(i), "x" * 300 + str(i))
            rows.append(
                call_values(
                    thread,
                    at(DAY, 10),
                    channel="c" * 200 + str(i),
                    model_asked="p/" + "m" * 250 + str(i),
                    tier=None,
                    cost_nano_usd=10**9 * (i + 1),
                )
            )
        await insert_calls(engine, rows)
        d = await build_digest(engine, DAY, ZONE, baseline_model="b" * 300)
    finally:
        await engine.dispose()
    blocks = slack_blocks(d)
    assert len(blocks) <= 50
    assert blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    assert any("```" in b.get("text", {}).get("text", "") for b in blocks)  # the top-items table
    assert blocks[-1]["type"] == "context"
    embed = discord_embed(d, "spend.png")
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert len(embed["fields"]) <= 25
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed_size(embed) <= 6000
    assert embed["image"]["url"] == "attachment://spend.png"
    n = notice(d, b"png")
    assert n.text.startswith("Switchboard spend for Mon 02 Nov 2026") and n.chart_png == b"png"


def test_chart_is_a_png_matplotlib_can_read() -> None:
    days = [DAY - timedelta(n) for n in range(13, -1, -1)]
    series = {"budget": [n * 1_000_000 for n in range(14)], "premium": [5_000_000] * 14}
    png = spend_chart(days, series, "UTC")
    assert png.startswith(PNG_MAGIC)
    image = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert image.shape[0] > 100 and image.shape[1] > 300
    assert spend_chart(days, {}, "UTC").startswith(PNG_MAGIC)  # a day without calls still draws


async def test_running_experiments_get_a_line_in_every_form(sqlite_db: Database) -> None:
    engine = sqlite_db.engine()
    try:
        d = await build_digest(engine, DAY, ZONE, baseline_model="b")
    finally:
        await engine.dispose()
    line = "tiered-vs-fixed: 120/400 threads per variant, not enough data yet"
    d = dataclasses.replace(d, experiment_lines=(line,))
    assert line in notice(d, None).text
    assert any(line in b.get("text", {}).get("text", "") for b in slack_blocks(d))
    fields = discord_embed(d)["fields"]
    assert any(f["name"] == "Experiments" and line in f["value"] for f in fields)
