"""The Discord client: turns gateway events into engine calls and ops calls.

Resources come in through the constructor (`SwitchboardBot(engine=..., ops=..., config=...)`);
`setup_hook` registers the persistent answer buttons and syncs the slash commands.
"""

from __future__ import annotations

import logging
import re
from contextlib import AbstractAsyncContextManager
from typing import Any

import discord
from discord import app_commands

from adapters.discord.commands import add_commands, is_admin
from adapters.discord.config import DiscordConfig
from adapters.discord.places import (
    THREAD_EXISTS,
    Place,
    dm_place,
    fixed,
    new_thread,
    thread_name,
    thread_place,
)
from adapters.discord.reply import DISCORD_LIMITS, ChannelOpener, DiscordReply
from adapters.discord.views import DYNAMIC_ITEMS, answer_view
from bot.conversation.engine import Engine
from bot.conversation.messages import Incoming, Outcome, ReplyLimits
from bot.operations import Operations
from bot.tasks import BackgroundTasks

log = logging.getLogger(__name__)

PLATFORM = "discord"
APOLOGY = "Sorry, something went wrong while answering. The team has been told; please try again."
VOTES = {"👍": 1, "👎": -1}
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")


def bot_intents() -> discord.Intents:
    """Default intents plus the privileged `message_content` (enable it in the developer portal)."""
    intents = discord.Intents.default()
    intents.message_content = True
    return intents


class SwitchboardBot(discord.Client):
    def __init__(
        self,
        *,
        engine: Engine,
        ops: Operations,
        config: DiscordConfig,
        intents: discord.Intents | None = None,
        limits: ReplyLimits = DISCORD_LIMITS,
        **options: Any,
    ) -> None:
        # Mentions are off by default too, in case a send ever forgets to say so.
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(intents=intents or bot_intents(), **options)
        self.engine = engine
        self.ops = ops
        self.config = config
        self.limits = limits
        self.tree = app_commands.CommandTree(self)
        add_commands(self.tree)
        self.stopping = False  # set at shutdown: new messages are no longer taken
        self._answering = BackgroundTasks()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.sync()

    # --- replies -------------------------------------------------------------------

    def make_reply(
        self,
        open_channel: ChannelOpener,
        *,
        reply_to: discord.Message | None = None,
        reference: discord.Message | discord.PartialMessage | None = None,
    ) -> DiscordReply:
        return DiscordReply(
            open_channel,
            limits=self.limits,
            show_context_line=self.config.show_context_line,
            view_factory=answer_view,
            reply_to=reply_to,
            reference=reference,
            handoff_role=self.config.handoff_role,
        )

    def recovery_reply(self, incoming: Incoming) -> DiscordReply:
        """The reply for a question answered after a restart, from the place stored with it
        (REST only: the gateway's caches may still be empty)."""
        kind, _, rest = (incoming.origin or f"channel:{incoming.thread}").partition(":")
        ids = [int(part) for part in rest.split(":") if part.isdigit()]
        if kind == "thread-on" and len(ids) == 2:
            name = thread_name(incoming.text, "Question")
            return self.make_reply(self._thread_on(ids[0], ids[1], name))
        channel = self.get_partial_messageable(ids[0] if ids else int(incoming.thread))
        reference = channel.get_partial_message(ids[1]) if len(ids) > 1 else None
        return self.make_reply(fixed(channel), reference=reference)

    def _thread_on(self, parent: int, message: int, name: str) -> ChannelOpener:
        async def open_channel() -> discord.abc.Messageable:
            try:
                await self.http.start_thread_with_message(
                    parent, message, name=name, auto_archive_duration=1440
                )
            except discord.HTTPException as error:
                if error.code != THREAD_EXISTS:
                    raise
            return self.get_partial_messageable(message)  # a thread takes its message's id

        return open_channel

    async def keep_recovering(self) -> None:
        """At start-up and then periodically: answer what a crashed process left unanswered."""
        await self.engine.keep_recovering(PLATFORM, self.recovery_reply)

    def reply_in(self, channel: discord.abc.Messageable) -> DiscordReply:
        return self.make_reply(fixed(channel))

    async def answer(self, incoming: Incoming, reply: DiscordReply) -> Outcome | None:
        """Run the engine; an unexpected error is logged and the user gets an apology."""
        async with self.in_flight():
            try:
                return await self.engine.handle(incoming, reply)
            except Exception:  # the gateway task must survive any one message
                log.exception("answering discord message %s failed", incoming.event_id)
                await reply.fail(APOLOGY)
                return None

    def in_flight(self) -> AbstractAsyncContextManager[None]:
        """Mark the current task as an answer that shutdown waits for."""
        return self._answering.hold()

    async def finish_answers(self, timeout_s: float) -> None:
        """Stop taking messages; let answers in flight finish (up to `timeout_s`), cancel the
        rest. Called before the connection closes, so their last edits still go out."""
        self.stopping = True
        pending = len(self._answering.others())
        if not pending:
            return
        log.info("discord: finishing %d answer(s) in flight", pending)
        cancelled = await self._answering.finish(timeout_s, wait_s=1.0)
        if cancelled:
            log.warning("discord: cancelled %d unfinished answer(s) at shutdown", cancelled)

    # --- messages ------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if self.user is None or message.author.bot or message.is_system():
            return
        if self.stopping:
            log.info("discord: shutting down, message %s not taken", message.id)
            return
        place = await self.place_for(message)
        if place is None:
            return
        incoming = Incoming(
            platform=PLATFORM,
            workspace=place.workspace,
            channel=place.channel,
            thread=place.thread,
            user=str(message.author.id),
            text=self.without_own_mention(message.content),
            event_id=str(message.id),
            admin=is_admin(message.author, self.config.admin_ids),
            origin=place.origin,
        )
        reply = self.make_reply(place.open_channel, reply_to=message, reference=place.reply_to)
        await self.answer(incoming, reply)

    def without_own_mention(self, text: str) -> str:
        if self.user is None:
            return text
        return re.sub(rf"<@!?{self.user.id}>", "", text).strip()

    async def place_for(self, message: discord.Message) -> Place | None:
        """Where to answer `message`, or None when it is not for us."""
        config = self.config
        channel: Any = message.channel
        if message.guild is None:
            return dm_place(channel, channel.id)
        if isinstance(channel, discord.PartialMessageable):
            channel = await self._resolve(channel.id)
            if channel is None:
                return None
        assert self.user is not None
        mentioned = self.user.id in message.raw_mentions
        guild = str(message.guild.id)
        if isinstance(channel, discord.Thread):
            answered_here = channel.parent_id in (
                *config.help_channel_ids,
                *config.forum_channel_ids,
            )
            if (
                answered_here
                or mentioned
                or await self.ops.knows_thread(
                    PLATFORM, guild, str(channel.parent_id), str(channel.id)
                )
            ):
                return thread_place(channel)
            return None
        if channel.id in config.help_channel_ids and isinstance(channel, discord.TextChannel):
            name = thread_name(
                self.without_own_mention(message.content),
                f"Question from {message.author.display_name}",
            )
            return Place(guild, str(channel.id), str(message.id), new_thread(message, name),
                         origin=f"thread-on:{channel.id}:{message.id}")  # fmt: skip
        if mentioned:
            return Place(guild, str(channel.id), str(message.id), fixed(channel), message,
                         origin=f"channel:{channel.id}:{message.id}")  # fmt: skip
        return None

    async def _resolve(self, channel_id: int) -> Any:
        """A channel the cache does not know yet (e.g. a thread created while disconnected)."""
        try:
            return await self.fetch_channel(channel_id)
        except discord.HTTPException:
            log.warning("cannot resolve discord channel %s", channel_id)
            return None

    # --- reactions -------------------------------------------------------------------

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._vote(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._vote(payload, added=False)

    async def _vote(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        value = VOTES.get(_SKIN_TONES.sub("", payload.emoji.name or ""))
        if value is None or (self.user is not None and payload.user_id == self.user.id):
            return
        if payload.member is not None and payload.member.bot:
            return
        call_id = await self.ops.feedback(
            PLATFORM, str(payload.message_id), str(payload.user_id), value if added else 0,
            "reaction",
        )  # fmt: skip
        if call_id is not None:
            log.info("feedback %+d on call %s", value if added else 0, call_id)
