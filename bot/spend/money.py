"""Nano-dollars (1e-9 USD, exact integers) and how they are shown."""

from __future__ import annotations

NANO_PER_USD = 1_000_000_000


def format_usd(nano: int) -> str:
    """$1,234.5678 for amounts of a cent or more, else six decimals ($0.000123); -$0.0366."""
    sign, size = ("-" if nano < 0 else ""), abs(nano)
    return f"{sign}${size / 1e9:,.4f}" if size >= 10_000_000 else f"{sign}${size / 1e9:,.6f}"


def savings_words(nano: int, percent: float | None) -> str:
    """What routing saved against the baseline, "$0.1234 (12%)"; when it cost more, say so:
    "$0.0366 more than the baseline (+2051%)", never "$-0.0366 (-2051%)"."""
    if nano >= 0:
        return format_usd(nano) + ("" if percent is None else f" ({percent:.0f}%)")
    more = "" if percent is None else f" (+{-percent:.0f}%)"
    return f"{format_usd(-nano)} more than the baseline{more}"


def to_nano(usd: float | None) -> int | None:
    """A configured USD amount (settings) as nano-dollars."""
    return None if usd is None else round(usd * NANO_PER_USD)
