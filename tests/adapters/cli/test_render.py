"""Tables in the terminal: every essential part shown, readable at 80 columns."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from adapters.cli.demo import calls_table, comparison_table
from adapters.cli.render import print_notice
from bot.notices import Notice, NoticeTable
from storage.ledger import CallRow


def test_a_notice_prints_every_part_within_80_columns() -> None:
    notice = Notice(
        title="Switchboard spend for Mon 02 Nov 2026",
        body="$0.0170 over 4 calls",
        fields=(("Saved by routing", "$0.000010 (50%)"),),
        tables=(NoticeTable("Top threads", (("billing/" + "T" * 120, "$0.000007", "2"),)),),
        notes=(("Experiments", ("ab: 120/400 threads per variant",)),),
        footer="Day in America/New_York",
    )
    out = io.StringIO()
    print_notice(notice, Console(file=out, width=80))
    text = out.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    for part in ("Saved by routing", "billing/", "ab: 120/400", "America/New_York"):
        assert part in text


def demo_rows() -> list[CallRow]:
    questions = ["Our SSO login loops back to the sign-in page after the IdP redirect", "thanks!"]
    return [
        CallRow(i, f"t{i}", questions[i % 2], strategy, tier, model, "ok", 1200, 480,
                12_345_678, "reported", 20_000_000, 1450, 300, 420, 1)
        for i, (strategy, tier, model) in enumerate([
            ("fixed", None, "anthropic/claude-opus-4-5"),
            ("tiered", "balanced", "openai/gpt-4o"),
            ("tiered", "budget", "openai/gpt-4o-mini"),
        ], start=1)
    ]  # fmt: skip


@pytest.mark.parametrize("width", [80, 120, 200])
def test_demo_tables_fit_the_terminal(width: int) -> None:
    out = io.StringIO()
    console = Console(file=out, width=width)
    rows = demo_rows()
    console.print(calls_table(rows, console.width))
    console.print(comparison_table(rows, ("fixed", "tiered"), console.width))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    text = out.getvalue()
    # The essential columns are whole at any width; the question gives way.
    for essential in ("strategy", "cost", "$0.012346", "gpt-4o-mini", "balanced", "savings"):
        assert essential in text
    assert "Our SSO" in text and ("latency" in text) == (width >= 100)
    assert ("anthropic/claude-opus-4-5" in text) == (width >= 120)
