"""Operator notices in Block Kit stay inside Slack's limits."""

from __future__ import annotations

from adapters.slack.render import BLOCKS_MAX, blocks, fallback_text
from bot.notices import Notice, NoticeTable
from tests.adapters.notices import oversized_notice


def test_blocks_stay_within_slack_limits() -> None:
    found = blocks(oversized_notice())
    assert len(found) <= BLOCKS_MAX
    assert found[0]["type"] == "header" and len(found[0]["text"]["text"]) <= 150
    for block in found:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    assert any("```" in b.get("text", {}).get("text", "") for b in found)  # the tables
    assert found[-1]["type"] == "context"
    assert len(fallback_text(oversized_notice())) <= 3900


def test_every_part_of_a_notice_is_shown() -> None:
    notice = Notice(
        title="Budget alert: daily budget at 80%",
        body="$8.00 of $10.00 spent",
        fields=(("Spend", "$8.00"),),
        tables=(NoticeTable("By model", (("openai/gpt-4o", "$8.00", "12"),)),),
        notes=(("Experiments", ("ab: keep A",)),),
        footer="Day in UTC",
    )
    text = str(blocks(notice))
    for part in ("Budget alert", "$8.00 of $10.00", "*Spend*", "openai/gpt-4o", "ab: keep A",
                 "Day in UTC"):  # fmt: skip
        assert part in text
