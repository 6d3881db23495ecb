"""The buttons under every answer: "Ask a stronger model" and "Solved" (which posts the
knowledge entry it proposes for review: `adapters.discord.solved`).

The call id travels in each button's custom_id (`sb:escalate:<call_id>`), and the buttons are
`DynamicItem`s registered in `setup_hook`, so a click on an answer posted before a restart
still reaches its handler.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from adapters.discord.commands import host, is_admin
from adapters.discord.solved import ReviewButton, message_link, post_review

log = logging.getLogger(__name__)

ALREADY_ESCALATED = "This answer was already re-asked with a stronger model."
SOLVED = "Marked as solved. Thanks for letting us know!"
UNKNOWN_ANSWER = "I can't find that answer any more."


class EscalateButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:escalate:(?P<call_id>[0-9]+)"
):
    def __init__(self, call_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Ask a stronger model",
                style=discord.ButtonStyle.secondary,
                custom_id=f"sb:escalate:{call_id}",
                emoji="⬆️",
            )
        )
        self.call_id = call_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> EscalateButton:
        return cls(int(match["call_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        bot = host(interaction)
        channel = interaction.channel
        # Acknowledge within Discord's 3 s; the answer then streams into the thread.
        await interaction.response.defer()
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            await interaction.followup.send(UNKNOWN_ANSWER, ephemeral=True)
            return
        reply = bot.reply_in(channel)
        admin = is_admin(interaction.user, bot.config.admin_ids, interaction.permissions.value)
        async with bot.in_flight():
            outcome = await bot.engine.escalate(
                self.call_id, str(interaction.user.id), reply, admin=admin
            )
        if outcome.status == "duplicate":
            await interaction.followup.send(ALREADY_ESCALATED, ephemeral=True)


class SolvedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"sb:solved:(?P<call_id>[0-9]+)"
):
    def __init__(self, call_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Solved",
                style=discord.ButtonStyle.success,
                custom_id=f"sb:solved:{call_id}",
                emoji="✅",
            )
        )
        self.call_id = call_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SolvedButton:
        return cls(int(match["call_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        bot = host(interaction)
        user, link = str(interaction.user.id), message_link(interaction)
        marked = await bot.ops.solved_by_call(self.call_id, user, link)
        if marked is None:
            await interaction.response.send_message(UNKNOWN_ANSWER, ephemeral=True)
            return
        await interaction.response.send_message(SOLVED, ephemeral=True)
        if marked.proposal is not None and marked.proposal.pending:
            await post_review(interaction, marked.proposal)


def answer_view(call_id: int) -> discord.ui.View:
    """The persistent view posted under an answer (no timeout: it must outlive the process)."""
    view = discord.ui.View(timeout=None)
    view.add_item(EscalateButton(call_id))
    view.add_item(SolvedButton(call_id))
    return view


DYNAMIC_ITEMS = (EscalateButton, SolvedButton, ReviewButton)
