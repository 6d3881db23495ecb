"""Nano-dollars (1e-9 USD, exact integers) and how they are shown."""

from __future__ import annotations

NANO_PER_USD = 1_000_000_000


def format_usd(nano: int) -> str:
    """$1,234.5678 for amounts of a cent or more, else six decimals ($0.000123)."""
    return f"${nano / 1e9:,.4f}" if nano >= 10_000_000 else f"${nano / 1e9:,.6f}"


def to_nano(usd: float | None) -> int | None:
    """A configured USD amount (settings) as nano-dollars."""
    return None if usd is None else round(usd * NANO_PER_USD)
