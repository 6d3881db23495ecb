"""Solved threads in Discord: the knowledge entry a "Solved" click proposes, posted in the
thread with Approve and Reject buttons that only admins (DISCORD_ADMIN_IDS, or the
Administrator permission) may use; anyone else is told so, privately, and nothing changes.

The buttons carry the proposal id in their custom_id (`sb:kb:approve:<id>`) and are
`DynamicItem`s, so they keep working after a restart."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from adapters.discord.commands import host, is_admin
from adapters.discord.reply import NO_MENTIONS
from bot.learning.solved import answer_label
from bot.notices import clip
from storage.solved import Proposal

log = logging.getLogger(__name__)

NOT_ADMIN = (
    "Thanks! Only admins can add a solved thread to the knowledge base, so nothing was "
    "changed. An admin can review it here (DISCORD_ADMIN_IDS)."
)
REVIEWED = "This suggestion was already reviewed."
ADDED = "✅ Added to the knowledge base (the `solved` collection)."
NOT_ADDED = "❌ Not added to the knowledge base; this answer won't be suggested again."


def message_link(interaction: discord.Interaction) -> str | None:
    """The link to the message a button was pressed under (an answer in its thread)."""
    if interaction.message is None or interaction.channel_id is None:
        return None
    where = interaction.guild_id or "@me"
    return f"https://discord.com/channels/{where}/{interaction.channel_id}/{interaction.message.id}"


def review_text(proposal: Proposal) -> str:
    return (
        "📚 **Add this solved thread to the knowledge base?**\n"
        f"**Question:** {clip(proposal.question, 500)}\n"
        f"**Answer** ({answer_label(proposal)}): {clip(proposal.answer, 1200)}\n"
        "-# Admins: approve or reject it here, or with `switchboard kb review`."
    )


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"sb:kb:(?P<verb>approve|reject):(?P<proposal_id>[0-9]+)",
):
    def __init__(self, verb: str, proposal_id: int) -> None:
        approve = verb == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"sb:kb:{verb}:{proposal_id}",
            )
        )
        self.approve, self.proposal_id = approve, proposal_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(match["verb"], int(match["proposal_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        bot = host(interaction)
        user = interaction.user
        if not is_admin(user, bot.config.admin_ids, interaction.permissions.value):
            log.info("user %s was refused reviewing proposal #%s", user.id, self.proposal_id)
            await interaction.response.send_message(NOT_ADMIN, ephemeral=True)
            return
        if await bot.ops.review(self.proposal_id, self.approve, str(user.id)) is None:
            await interaction.response.send_message(REVIEWED, ephemeral=True)
            return
        await interaction.response.edit_message(
            content=ADDED if self.approve else NOT_ADDED, view=None
        )


async def post_review(interaction: discord.Interaction, proposal: Proposal) -> None:
    """Post `proposal` for review in the thread where Solved was pressed."""
    channel = interaction.channel
    if not isinstance(channel, discord.abc.Messageable):
        return
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("approve", proposal.id))
    view.add_item(ReviewButton("reject", proposal.id))
    try:
        await channel.send(review_text(proposal), view=view, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException:
        log.exception("posting proposal #%s in channel %s failed", proposal.id, channel)
