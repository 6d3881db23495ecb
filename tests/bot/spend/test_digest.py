"""The digest's figures from the ledger, its neutral notice, and its chart."""

from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.spend.chart import PNG_MAGIC, TIER_COLOURS, spend_chart
from bot.spend.digest import build_digest, digest_notice
from bot.spend.money import format_usd, savings_words
from storage.ledger import Ledger
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread

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
            Ledger(engine), DAY, ZONE, baseline_model="m/base", monthly_budget_nano_usd=50_000
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
    notice = digest_notice(d, b"png")
    assert notice.title == "Switchboard spend for Mon 02 Nov 2026" and notice.chart_png == b"png"
    assert ("Saved by routing", "$0.000010 (50%)") in notice.fields
    assert ("Feedback", "0 👍, 0 👎, 0 escalated, 0 solved") in notice.fields
    channels = next(t for t in notice.tables if t.name == "By channel")
    assert channels.rows == (("billing", "$0.000007", "2"), ("c1", "$0.000003", "2"))
    assert "billing/T2" in notice.text and "Saved by routing" in notice.text


def test_routing_that_cost_more_than_the_baseline_is_worded_so() -> None:
    assert savings_words(10_000, 50.0) == "$0.000010 (50%)"
    assert savings_words(-36_615_000, -2051.3) == "$0.0366 more than the baseline (+2051%)"
    assert format_usd(-36_615_000) == "-$0.0366" and format_usd(-1_000) == "-$0.000001"


def decode_png(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGB rows) of an 8-bit RGB PNG whose rows use filter 0."""
    assert png.startswith(PNG_MAGIC)
    chunks, offset = {}, len(PNG_MAGIC)
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        offset += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2) and b"IEND" in chunks
    raw, stride = zlib.decompress(chunks[b"IDAT"]), width * 3 + 1
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def test_chart_is_a_png_with_one_stacked_bar_per_day() -> None:
    days = [DAY - timedelta(n) for n in range(13, -1, -1)]
    series = {"budget": [n * 1_000_000 for n in range(14)], "premium": [5_000_000] * 14}
    width, height, rows = decode_png(spend_chart(days, series, "UTC"))
    assert (width, height) == (800, 320)

    def colour_runs(hex_colour: str) -> list[int]:
        """Per pixel column, how many pixels below the title and legend have the tier's colour."""
        rgb = bytes.fromhex(hex_colour.lstrip("#"))
        return [sum(row[x * 3 : x * 3 + 3] == rgb for row in rows[50:]) for x in range(width)]

    budget, premium = colour_runs(TIER_COLOURS["budget"]), colour_runs(TIER_COLOURS["premium"])
    # The last day: 13 of the axis's 20 thousandths of a dollar, with 5 on top of it.
    assert max(budget) / max(premium) == pytest.approx(13 / 5, rel=0.03)
    tall = [x for x in range(width) if budget[x]]
    assert len({x for x in tall if x - 1 not in tall}) == 13  # day 0 has no budget spend
    empty = spend_chart(days, {}, "UTC")
    assert decode_png(empty)[:2] == (800, 320)  # a day without calls still draws


async def test_running_experiments_get_a_line_in_every_form(sqlite_db: Database) -> None:
    engine = sqlite_db.engine()
    line = "tiered-vs-fixed: 120/400 threads per variant, not enough data yet"
    try:
        d = await build_digest(Ledger(engine), DAY, ZONE, baseline_model="b",
                               experiment_lines=[line])  # fmt: skip
    finally:
        await engine.dispose()
    notice = digest_notice(d)
    assert notice.notes == (("Experiments", (line,)),)
    assert line in notice.text
