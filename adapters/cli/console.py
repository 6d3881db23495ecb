"""The terminal adapter: the same Reply contract as Slack and Discord, printed to a stream."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from bot.conversation.messages import AnswerMeta, ReplyLimits

PROMPT = "bot> "


@dataclass
class WordWrap:
    """Breaks streamed text at spaces so no word is cut at the terminal's edge.

    A word is held back until the space (or line end) after it arrives, then written on this
    line if it fits, else on the next one; a word longer than a line is broken where it must.
    """

    width: int
    column: int = 0
    _word: str = ""

    def feed(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if char == "\n":
                out += [self._flush_word(), "\n"]
                self.column = 0
            elif char in " \t":
                out.append(self._flush_word())
                if self.column < self.width:  # a space at the edge would start the next line
                    out.append(char)
                    self.column += 1
            else:
                self._word += char
                if len(self._word) >= self.width:
                    out.append(self._flush_word())
        return "".join(out)

    def flush(self) -> str:
        return self._flush_word()

    def _flush_word(self) -> str:
        word, self._word = self._word, ""
        if not word:
            return ""
        if self.column and self.column + len(word) > self.width:
            self.column = len(word)
            return "\n" + word
        self.column += len(word)
        return word


@dataclass
class ConsoleReply:
    """Streams tokens to `out` as they arrive (or only collects them when `echo` is off).

    `width` (a terminal's columns) wraps the answer at word boundaries; None writes it as is
    (a pipe or a file).
    """

    out: TextIO = field(default_factory=lambda: sys.stdout)
    echo: bool = True
    show_meta: bool = True
    width: int | None = None
    limits: ReplyLimits = field(
        default_factory=lambda: ReplyLimits(max_chars=1_000_000, min_edit_interval_s=0.0)
    )
    text: str = ""
    meta: AnswerMeta | None = None
    error: str | None = None
    _wrap: WordWrap | None = None
    _started: bool = False

    async def start(self) -> None:
        if self.echo and not self._started:
            self._started = True
            if self.width:
                self._wrap = WordWrap(self.width, column=len(PROMPT))
            self._write(PROMPT, wrap=False)

    async def append(self, text: str) -> None:
        self.text += text
        if self.echo:
            self._write(text)

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        if self.echo and text.startswith(self.text) and len(text) > len(self.text):
            self._write(text[len(self.text) :])  # e.g. an "incomplete" notice
        self.text, self.meta = text, meta
        if self.echo:
            self._end_line()
            if meta.sources:
                self.out.write("Sources:\n")
                for c in meta.sources:
                    self.out.write(f"  {c.label} — {c.url or c.path}\n")
            if self.show_meta:
                self.out.write(f"     [{meta.context_line()}]\n")
            self.out.flush()
        return []

    async def hand_off(self, message: str) -> list[str]:
        """The docs don't cover the question: in a terminal there is nobody to ping."""
        self.text = message
        if self.echo:
            self._end_line()
            self.out.write(f"{message}\n")
            self.out.flush()
        return []

    async def fail(self, message: str) -> None:
        self.error = message
        if self.echo:
            self._end_line()
            self.out.write(f"[error] {message}\n")
            self.out.flush()

    def interrupted(self) -> None:
        """The answer was cancelled (Ctrl-C in `chat`): end its line and say so."""
        if self.echo:
            self._end_line()
            self.out.write("[cancelled]\n")
            self.out.flush()

    def _write(self, text: str, *, wrap: bool = True) -> None:
        if wrap and self._wrap is not None:
            text = self._wrap.feed(text)
        self.out.write(text)
        self.out.flush()

    def _end_line(self) -> None:
        if self._wrap is not None:
            self.out.write(self._wrap.flush())
            self._wrap = None
        self.out.write("\n")
