"""A neutral `Notice` in Slack's Block Kit, inside Slack's limits (header 150 chars, 50 blocks,
section text 3,000, 10 fields of 2,000 each)."""

from __future__ import annotations

from typing import Any

from bot.notices import Notice, clip, table_text

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
TEXT_MAX = 3900  # the fallback `text` of chat.postMessage


def _mrkdwn(value: str, limit: int) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(value, limit)}


def blocks(notice: Notice) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(notice.title, HEADER_MAX)}}
    ]
    if notice.body:
        found.append({"type": "section", "text": _mrkdwn(notice.body, SECTION_MAX)})
    fields = [_mrkdwn(f"*{label}*\n{value}", FIELD_MAX) for label, value in notice.fields]
    for start in range(0, len(fields), FIELDS_MAX):
        found.append({"type": "section", "fields": fields[start : start + FIELDS_MAX]})
    for table in notice.tables:
        body = f"*{table.name}*\n```{table_text(table)}```"
        found.append({"type": "section", "text": _mrkdwn(body, SECTION_MAX)})
    for heading, lines in notice.notes:
        body = f"*{heading}*\n" + "\n".join(lines)
        found.append({"type": "section", "text": _mrkdwn(body, SECTION_MAX)})
    if notice.footer:
        found.append({"type": "context", "elements": [_mrkdwn(notice.footer, FIELD_MAX)]})
    return found[:BLOCKS_MAX]


def fallback_text(notice: Notice) -> str:
    return clip(notice.text, TEXT_MAX)
