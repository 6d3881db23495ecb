"""Operator notices (digest, alerts) as neutral values; each adapter renders its platform's form."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoticeTable:
    """A small ranking: (label, spend, calls) rows, already formatted."""

    name: str
    rows: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Notice:
    title: str
    body: str = ""  # a paragraph under the title
    fields: tuple[tuple[str, str], ...] = ()  # (label, value), shown side by side
    tables: tuple[NoticeTable, ...] = ()
    notes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (heading, lines): experiments, quality
    footer: str = ""
    level: Literal["info", "warning"] = "info"
    chart_png: bytes | None = None
    chart_name: str = "spend.png"

    @property
    def text(self) -> str:
        """Plain text: what a terminal prints and every platform's fallback."""
        parts = [self.title]
        if self.body:
            parts.append(self.body)
        if self.fields:
            parts += ["", *(f"{label}: {value}" for label, value in self.fields)]
        for table in self.tables:
            parts += ["", f"{table.name}:", table_text(table)]
        for heading, lines in self.notes:
            parts += ["", f"{heading}:", *lines]
        if self.footer:
            parts += ["", self.footer]
        return "\n".join(parts)


class Notifier(Protocol):
    """Posts notices where the operators read them (a Slack channel, a Discord channel)."""

    async def notify(self, notice: Notice) -> None: ...


def table_text(table: NoticeTable, width: int = 34) -> str:
    """Fixed-width rows for monospace display."""
    lines = [f"{clip(label, width):<{width}} {spend:>12} {calls:>7}" for label, spend, calls in
             table.rows]  # fmt: skip
    return "\n".join(lines) or "(no calls)"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_notice(title: str, body: str) -> Notice:
    return Notice(title=title, body=body, level="warning")


async def broadcast(notifiers: Sequence[Notifier], notice: Notice) -> int:
    """Send `notice` to each notifier; a failing one is logged, not fatal. How many took it."""
    delivered = 0
    for notifier in notifiers:
        try:
            await notifier.notify(notice)
            delivered += 1
        except Exception:  # one broken channel must not stop the others
            log.exception("notifier %r failed", notifier)
    return delivered


class LogNotifier:
    """Where notices go when no operator channel is configured: the log (stderr), never stdout,
    so they cannot be mistaken for an answer or break a command's JSON output."""

    async def notify(self, notice: Notice) -> None:
        log.warning("%s", notice.text)
