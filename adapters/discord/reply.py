"""The Discord form of the engine's `Reply`: typing, then one message edited as tokens arrive.

Discord shares one rate-limit bucket per channel between sends and edits (about 5 per 5 s), so
the visible message is updated at most once per `min_edit_interval_s`; text past 2,000
characters continues in further messages, split where `bot.text.split_message` says is safe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.conversation.messages import AnswerMeta, ReplyLimits
from bot.conversation.text import split_message
from bot.knowledge.citations import Citation

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
DISCORD_LIMITS = ReplyLimits(max_chars=2000, min_edit_interval_s=1.0)
# Room kept free in every part for the footer, so parts do not shift when it is added.
FOOTER_RESERVE = 120
SEND_FAILED = (
    "Sorry, Discord would not accept part of my answer, so it may be incomplete here. "
    "Please ask again in a moment."
)

ChannelOpener = Callable[[], Awaitable[discord.abc.Messageable]]
ViewFactory = Callable[[int], discord.ui.View | None]


class DiscordReply:
    """Streams one answer into a channel or thread that `open_channel` provides on first use.

    `open_channel` may create a thread; it is only called once the engine has decided to answer
    (after dedupe), so a duplicate delivery creates nothing. `reply_to` is the user's message:
    a rejection before any answer (empty text) is posted as a reply to it, in place.
    `reference`, when given, makes the first answer message a reply to that message.
    """

    def __init__(
        self,
        open_channel: ChannelOpener,
        *,
        limits: ReplyLimits = DISCORD_LIMITS,
        show_context_line: bool = True,
        view_factory: ViewFactory | None = None,
        reply_to: discord.Message | None = None,
        reference: discord.Message | discord.PartialMessage | None = None,
        handoff_role: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = limits
        self._handoff_role = handoff_role  # pinged on a hand-off, the only mention allowed
        self._open_channel = open_channel
        self._show_context_line = show_context_line
        self._view_factory = view_factory
        self._reply_to = reply_to
        self._reference = reference
        self._clock = clock
        self._channel: discord.abc.Messageable | None = None
        self._typing: Any = None
        self._last_post: float | None = None
        self._broken = False
        self.buffer = ""
        self.posted: list[discord.Message | discord.PartialMessage] = []
        self._contents: list[str] = []
        self._resumed: list[int] = []  # a crashed process's half-written messages, to edit

    @property
    def checkpoint(self) -> str:
        """The ids of the messages showing this answer, for whoever resumes it after a crash."""
        return ",".join(str(message.id) for message in self.posted)

    def resume(self, checkpoint: str) -> None:
        """Edit the messages a crashed process left half-written instead of sending new ones."""
        self._resumed = [int(part) for part in checkpoint.split(",") if part.isdigit()]

    @property
    def _body_limit(self) -> int:
        return self.limits.max_chars - FOOTER_RESERVE

    async def channel(self) -> discord.abc.Messageable:
        if self._channel is None:
            self._channel = await self._open_channel()
            if self._resumed:
                partial: Any = self._channel  # every messageable we open has this method
                self.posted = [partial.get_partial_message(i) for i in self._resumed]
                self._contents = [""] * len(self.posted)  # unknown: always edited
        return self._channel

    async def start(self) -> None:
        if self._typing is not None:
            return
        channel = await self.channel()
        typing = channel.typing()
        try:
            await typing.__aenter__()
        except discord.HTTPException:
            log.warning("typing indicator failed in %s", getattr(channel, "id", "?"))
            return
        self._typing = typing

    async def append(self, text: str) -> None:
        self.buffer += text
        if not self.buffer.strip() or self._broken:
            return
        last = self._last_post
        if last is not None and self._clock() - last < self.limits.min_edit_interval_s:
            return  # shown at the next token after the interval, or by finish()
        await self._render(self.buffer, footer="", view=None)

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        await self._wait_for_slot()
        footer = ""
        if self._show_context_line:
            footer = "\n-# " + meta.context_line()[: FOOTER_RESERVE - 6]
        # No buttons while the ledger row waits for the database (a call id of 0).
        view = self._view_factory(meta.call_id) if self._view_factory and meta.call_id else None
        self._broken = False
        embed = sources_embed(meta.sources) if meta.sources else None
        ok = await self._render(text, footer=footer, view=view, embed=embed)
        if not ok:
            await self._tell(SEND_FAILED)
        return [str(message.id) for message in self.posted]

    async def hand_off(self, message: str) -> list[str]:
        """`message`, then the configured role: the one mention this bot lets Discord ping."""
        await self._stop_typing()
        if self._handoff_role is None:
            await self._tell(message)
            return [str(m.id) for m in self.posted]
        role = discord.Object(id=self._handoff_role)
        try:
            channel = await self.channel()
            sent = await channel.send(f"{message} <@&{self._handoff_role}>",
                                      allowed_mentions=discord.AllowedMentions(
                                          everyone=False, users=False, roles=[role]))  # fmt: skip
        except discord.HTTPException:
            log.exception("could not hand the thread off")
            return []
        self.posted.append(sent)
        return [str(sent.id)]

    async def fail(self, message: str) -> None:
        await self._stop_typing()
        text = f"⚠️ {message}"
        if self.posted or self._resumed:
            await self.channel()
            await self._wait_for_slot()
            self._broken = False
            if await self._render(text, footer="", view=None):  # replaces the partial answer
                return
        if self._channel is None and self._reply_to is not None:
            try:
                await self._reply_to.reply(text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                log.exception("could not tell the user: %s", message)
            return
        await self._wait_for_slot()
        await self._tell(text)

    async def _render(
        self,
        text: str,
        *,
        footer: str,
        view: discord.ui.View | None,
        embed: discord.Embed | None = None,
    ) -> bool:
        """Make the posted messages show `text`: edit the ones that changed, send the rest
        (the last one with `view` and `embed`)."""
        await self._stop_typing()
        parts = split_message(text, self._body_limit) or ["…"]
        parts[-1] += footer
        channel = await self.channel()
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            part_view = view if last else None
            extra: dict[str, Any] = {} if part_view is None else {"view": part_view}
            if last and embed is not None:
                extra["embed"] = embed
            try:
                if index < len(self.posted):
                    if self._contents[index] == part and not extra:
                        continue
                    self.posted[index] = await self.posted[index].edit(
                        content=part, allowed_mentions=NO_MENTIONS, **extra
                    )
                    self._contents[index] = part
                else:
                    if not self.posted and self._reference is not None:
                        extra["reference"] = self._reference
                    sent = await channel.send(part, allowed_mentions=NO_MENTIONS, **extra)
                    self.posted.append(sent)
                    self._contents.append(part)
            except discord.HTTPException:
                # discord.py already retried rate limits and 5xx; the answer is in the database.
                log.exception("posting answer part %d failed", index + 1)
                self._last_post = self._clock()
                self._broken = True
                return False
            self._last_post = self._clock()
        return True

    async def _tell(self, text: str) -> None:
        try:
            channel = await self.channel()
            await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException:
            log.exception("could not tell the user: %s", text)
            return
        self._last_post = self._clock()

    async def _wait_for_slot(self) -> None:
        if self._last_post is None:
            return
        wait = self._last_post + self.limits.min_edit_interval_s - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _stop_typing(self) -> None:
        typing, self._typing = self._typing, None
        if typing is not None:
            await typing.__aexit__(None, None, None)


def sources_embed(sources: tuple[Citation, ...]) -> discord.Embed:
    """The pages an answer drew on, as Markdown links in an embed under it."""
    lines = []
    for citation in sources:
        label = citation.label.replace("[", "(").replace("]", ")")
        lines.append(f"[{label}](<{citation.url}>)" if citation.url
                     else f"{label} ({citation.path})")  # fmt: skip
    return discord.Embed(title="Sources", description="\n".join(lines)[:4000])
