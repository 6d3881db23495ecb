"""Delivering notices: to every configured notifier, or to the terminal when there is none."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from bot.conversation.ports import Notice, Notifier

log = logging.getLogger(__name__)

SLACK_HEADER_MAX = 150
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
SLACK_SECTION_MAX = 3000
WARNING_COLOUR = 0xE8A33D


@dataclass
class ConsoleNotifier:
    """Prints notices: the notifier used when no Slack or Discord channel is configured."""

    out: TextIO = field(default_factory=lambda: sys.stdout)

    async def notify(self, notice: Notice) -> None:
        self.out.write(notice.text.rstrip() + "\n")
        if notice.chart_png:
            self.out.write(f"[chart {notice.chart_name}: {len(notice.chart_png)} bytes]\n")
        self.out.flush()


async def broadcast(notifiers: Sequence[Notifier], notice: Notice, fallback: Notifier) -> int:
    """Send `notice` to each notifier (or the fallback); a failing notifier is logged, not fatal.

    Returns how many notifiers took it.
    """
    delivered = 0
    for notifier in list(notifiers) or [fallback]:
        try:
            await notifier.notify(notice)
            delivered += 1
        except Exception:  # one broken channel must not stop the others
            log.exception("notifier %r failed", notifier)
    return delivered


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_notice(title: str, body: str) -> Notice:
    """A short operator alert in every platform's form."""
    return Notice(
        text=f"{title}\n{body}",
        slack_blocks=(
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER_MAX)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": clip(body, SLACK_SECTION_MAX)}},
        ),
        discord_embed={
            "title": clip(title, DISCORD_TITLE_MAX),
            "description": clip(body, DISCORD_DESCRIPTION_MAX),
            "color": WARNING_COLOUR,
        },
    )
