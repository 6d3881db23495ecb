"""Daily spend stacked by tier as inline SVG: drawn on the server, no JavaScript, scales to any
width. Each bar segment carries a <title> (the browser shows it on hover) and each day its total
in nano-dollars as a data attribute, so tests can read the figures back."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

from bot.spend.money import format_usd

# The digest chart's colours (bot/spend/chart.py), so both read the same.
TIER_COLOURS = {"budget": "#4C9F70", "balanced": "#3C78B5", "premium": "#B5473C", "": "#999999"}
OTHER_COLOUR = "#777777"
WIDTH, HEIGHT = 960, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 28, 36


def tier_label(tier: str) -> str:
    return tier or "no tier"


def _nice_step(top: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^n) that covers `top` in about `ticks` steps."""
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _dollars(value: float) -> str:
    if value >= 1:
        return f"${value:,.0f}" if value == int(value) else f"${value:,.2f}"
    return f"${value:.4g}"


def spend_chart_svg(days: Sequence[date], series: Mapping[str, Sequence[int]]) -> Markup:
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    top_usd = max(totals, default=0) / 1e9
    step = _nice_step(top_usd) if top_usd > 0 else 1.0
    axis_top = step * max(1, math.ceil(top_usd / step))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(days))
    bar = max(1.0, slot * 0.75)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="Spend per day by tier">'
    ]
    ticks = round(axis_top / step)
    for i in range(ticks + 1):
        value = step * i
        y = TOP + plot_h - plot_h * value / axis_top
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_dollars(value)}</text>"
        )
    label_every = max(1, math.ceil(len(days) / 12))
    for i, day in enumerate(days):
        x = LEFT + slot * i + (slot - bar) / 2
        parts.append(
            f'<g class="day" data-day="{day.isoformat()}" data-nano="{totals[i]}">'
            f"<title>{day:%a %d %b}: {format_usd(totals[i])}</title>"
        )
        base: float = TOP + plot_h
        for tier, values in series.items():
            if not values[i]:
                continue
            h = plot_h * values[i] / 1e9 / axis_top
            base -= h
            colour = TIER_COLOURS.get(tier, OTHER_COLOUR)
            title = escape(f"{day:%d %b} {tier_label(tier)}: {format_usd(values[i])}")
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}" data-tier="{escape(tier)}" data-nano="{values[i]}">'
                f"<title>{title}</title></rect>"
            )
        parts.append("</g>")
        if i % label_every == 0:
            parts.append(
                f'<text class="axis" x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle">{day:%d %b}</text>'
            )
    x = LEFT
    for tier in series:
        colour = TIER_COLOURS.get(tier, OTHER_COLOUR)
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text class="legend" x="{x + 16}" y="16">{escape(tier_label(tier))}</text>'
        )
        x += 24 + 8 * len(tier_label(tier))
    parts.append("</svg>")
    return Markup("".join(parts))
