"""A neutral `Notice` as a Discord embed, inside Discord's limits (title 256, description 4,096,
25 fields of 1,024, footer 2,048, 6,000 characters in all)."""

from __future__ import annotations

from typing import Any

from bot.notices import Notice, clip, table_text

TITLE_MAX = 256
DESCRIPTION_MAX = 1024  # Discord allows 4,096, but the fields matter more
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
TOTAL_MAX = 6000
FOOTER_MAX = 512  # Discord allows 2,048
COLOURS = {"info": 0x3C78B5, "warning": 0xE8A33D}
TABLE_WIDTH = 26  # embeds are narrower than a Slack message


def embed(notice: Notice) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"name": clip(label, FIELD_NAME_MAX), "value": clip(value, FIELD_VALUE_MAX), "inline": True}
        for label, value in notice.fields
    ]
    for heading, lines in notice.notes:
        value = clip("\n".join(lines), FIELD_VALUE_MAX)
        fields.append({"name": clip(heading, FIELD_NAME_MAX), "value": value, "inline": False})
    for table in notice.tables:
        value = clip(f"```{table_text(table, TABLE_WIDTH)}```", FIELD_VALUE_MAX - 3)
        if not value.endswith("```"):
            value += "```"
        fields.append({"name": table.name, "value": value, "inline": False})
    found: dict[str, Any] = {
        "title": clip(notice.title, TITLE_MAX),
        "color": COLOURS[notice.level],
        "fields": fields[:FIELDS_MAX],
    }
    if notice.body:
        found["description"] = clip(notice.body, DESCRIPTION_MAX)
    if notice.footer:
        found["footer"] = {"text": clip(notice.footer, FOOTER_MAX)}
    if notice.chart_png:
        found["image"] = {"url": f"attachment://{notice.chart_name}"}
    while size(found) > TOTAL_MAX and found["fields"]:
        found["fields"].pop()  # the least important (the breakdowns) go first
    return found


def size(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward its 6,000 limit."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    return total + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
