"""Operator notices in the terminal: every part shown, readable at 80 columns."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.cli.render import print_notice
from bot.notices import Notice, NoticeTable


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
