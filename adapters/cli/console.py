"""The terminal adapter: the same Reply contract as Slack and Discord, printed to a stream."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from bot.conversation.messages import AnswerMeta, ReplyLimits


@dataclass
class ConsoleReply:
    """Streams tokens to `out` as they arrive (or only collects them when `echo` is off)."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    echo: bool = True
    show_meta: bool = True
    limits: ReplyLimits = field(
        default_factory=lambda: ReplyLimits(max_chars=1_000_000, min_edit_interval_s=0.0)
    )
    text: str = ""
    meta: AnswerMeta | None = None
    error: str | None = None

    async def start(self) -> None:
        if self.echo:
            self.out.write("bot> ")
            self.out.flush()

    async def append(self, text: str) -> None:
        self.text += text
        if self.echo:
            self.out.write(text)
            self.out.flush()

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        if self.echo and text.startswith(self.text) and len(text) > len(self.text):
            self.out.write(text[len(self.text) :])  # e.g. an "incomplete" notice
        self.text, self.meta = text, meta
        if self.echo:
            self.out.write("\n")
            if self.show_meta:
                self.out.write(f"     [{meta.context_line()}]\n")
            self.out.flush()
        return []

    async def fail(self, message: str) -> None:
        self.error = message
        if self.echo:
            self.out.write(f"\n[error] {message}\n")
            self.out.flush()
