"""A worst-case operator notice: every field, table and note longer than any platform allows."""

from __future__ import annotations

from bot.notices import Notice, NoticeTable


def oversized_notice() -> Notice:
    rows = tuple(("c" * 200 + str(i), f"${i:,}.0000", f"{i * 1000:,}") for i in range(40))
    return Notice(
        title="Switchboard spend for Mon 02 Nov 2026 " + "t" * 300,
        body="$820.0000 over 40 calls " + "b" * 5000,
        fields=tuple((f"label {i} " + "l" * 300, "v" * 3000) for i in range(12)),
        tables=tuple(NoticeTable(name, rows) for name in ("By tier", "By model", "By channel")),
        notes=(("Experiments", tuple("e" * 400 for _ in range(10))),),
        footer="f" * 3000,
        chart_png=b"\x89PNG fake",
    )
