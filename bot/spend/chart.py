"""The digest chart: daily spend stacked by tier, as PNG bytes (matplotlib, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date

# The Agg canvas directly, not pyplot: headless, and no global backend state in a server.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIER_COLOURS = {"budget": "#4C9F70", "balanced": "#3C78B5", "premium": "#B5473C", "": "#999999"}


def spend_chart(days: Sequence[date], series: Mapping[str, Sequence[int]], zone: str) -> bytes:
    """A stacked bar per day (US dollars), one colour per tier; unknown tier is grey."""
    figure = Figure(figsize=(8, 3.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [d.strftime("%d %b") for d in days]
    bottom = [0.0] * len(days)
    for tier, values in series.items():
        dollars = [v / 1e9 for v in values]
        axes.bar(
            labels,
            dollars,
            bottom=bottom,
            label=tier or "no tier",
            color=TIER_COLOURS.get(tier, "#777777"),
        )
        bottom = [b + d for b, d in zip(bottom, dollars, strict=True)]
    axes.set_ylabel("USD")
    axes.set_title(f"Spend per day by tier ({zone})")
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    if series:
        axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
