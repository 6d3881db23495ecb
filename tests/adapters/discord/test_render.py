"""Operator notices as Discord embeds stay inside Discord's limits."""

from __future__ import annotations

from adapters.discord.render import COLOURS, embed, size
from bot.notices import Notice
from tests.adapters.notices import oversized_notice


def test_embed_stays_within_discord_limits() -> None:
    found = embed(oversized_notice())
    assert len(found["title"]) <= 256 and len(found["description"]) <= 4096
    assert len(found["fields"]) <= 25
    assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in found["fields"])
    assert size(found) <= 6000
    assert found["image"]["url"] == "attachment://spend.png"
    assert found["fields"][0]["inline"] is True


def test_alerts_are_coloured_as_warnings_and_notes_are_fields() -> None:
    notice = Notice(
        title="Budget alert", body="80%", notes=(("Experiments", ("ab: keep A",)),), level="warning"
    )
    found = embed(notice)
    assert found["color"] == COLOURS["warning"] and found["description"] == "80%"
    assert {"name": "Experiments", "value": "ab: keep A", "inline": False} in found["fields"]
