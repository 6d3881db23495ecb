"""Where a Discord message belongs in the engine's terms, and where its answer goes.

Threads are conversations: `Incoming.channel` is the thread's parent channel and
`Incoming.thread` the thread id, so a help-channel question, its thread and the follow-ups in
it share one history. A thread made from a message has that message's id, which is why a
help-channel question's conversation key is known before the thread exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from adapters.discord.reply import ChannelOpener

log = logging.getLogger(__name__)

THREAD_EXISTS = 160004  # "A thread has already been created for this message"
DM_WORKSPACE = "dm"


@dataclass(frozen=True)
class Place:
    workspace: str
    channel: str
    thread: str
    open_channel: ChannelOpener
    reply_to: discord.Message | None = None  # post the first answer as a reply to this
    # Where to answer after a restart (stored with the question): "channel:<id>[:<reply to>]"
    # or "thread-on:<channel>:<message>" (a thread still to be made on that message).
    origin: str = ""


def fixed(channel: discord.abc.Messageable) -> ChannelOpener:
    async def open_channel() -> discord.abc.Messageable:
        return channel

    return open_channel


def new_thread(message: discord.Message, name: str) -> ChannelOpener:
    """Open a thread on `message` when the answer starts (after the engine's dedupe)."""

    async def open_channel() -> discord.abc.Messageable:
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException as error:
            if error.code != THREAD_EXISTS or message.guild is None:
                raise
            # A retried delivery raced us to it: answer in the thread that exists.
            existing = message.guild.get_thread(message.id)
            if existing is not None:
                return existing
            channel = await message.guild.fetch_channel(message.id)
            assert isinstance(channel, discord.Thread)
            return channel

    return open_channel


def thread_name(text: str, fallback: str) -> str:
    """A thread title from the question: first line, at most 90 characters (Discord allows 100)."""
    first = " ".join(text.strip().splitlines()[0].split()) if text.strip() else ""
    if not first:
        return fallback[:90]
    return first if len(first) <= 90 else first[:89].rstrip() + "…"


def thread_place(thread: discord.Thread) -> Place:
    return Place(str(thread.guild.id), str(thread.parent_id), str(thread.id), fixed(thread),
                 origin=f"channel:{thread.id}")  # fmt: skip


def dm_place(channel: discord.abc.Messageable, channel_id: int) -> Place:
    return Place(DM_WORKSPACE, str(channel_id), str(channel_id), fixed(channel),
                 origin=f"channel:{channel_id}")  # fmt: skip
