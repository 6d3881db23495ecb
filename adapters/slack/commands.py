"""The slash command (`/switchboard spend | tier ... | help`): its answers are ephemeral."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.slack.config import SlackConfig
from bot.operations import Operations
from routing.tiers import TIERS, parse_tier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommandReply:
    text: str
    response_type: str = "ephemeral"  # only the person who typed the command sees it


def usage(command: str) -> str:
    tiers = "|".join((*TIERS, "auto"))
    return (
        f"*{command} spend* – what this channel and the workspace spent today and this month\n"
        f"*{command} tier {tiers}* – this channel's default model tier (admins only; "
        "`auto` lets the router choose)\n"
        f"*{command} help* – this message"
    )


async def run_command(
    ops: Operations, config: SlackConfig, *, text: str, team: str, channel: str, user: str
) -> CommandReply:
    """Answer one slash command; every refusal says what to do instead."""
    command = config.slash_command
    words = text.split()
    verb = words[0].lower() if words else "help"
    if verb == "help":
        return CommandReply(usage(command))
    if verb == "spend":
        summary = await ops.spend("slack", team, channel)
        return CommandReply("*Spend*\n" + summary.text())
    if verb == "tier":
        return await _set_tier(ops, config, words[1:], team=team, channel=channel, user=user)
    return CommandReply(f":warning: Unknown command `{verb[:40]}`.\n{usage(command)}")


async def _set_tier(
    ops: Operations, config: SlackConfig, args: list[str], *, team: str, channel: str, user: str
) -> CommandReply:
    command = config.slash_command
    choices = "|".join((*TIERS, "auto"))
    if len(args) != 1:
        return CommandReply(f":warning: Usage: `{command} tier {choices}`")
    if user not in config.admin_user_ids:
        log.info("user %s was refused changing the tier of %s", user, channel)
        return CommandReply(
            ":no_entry: Only Switchboard admins can change a channel's tier "
            "(SLACK_ADMIN_USER_IDS). Ask one of them."
        )
    choice = args[0].lower()
    tier = parse_tier(choice)
    if tier is None and choice != "auto":
        return CommandReply(
            f":warning: `{choice[:40]}` is not a tier. Use `{command} tier {choices}`."
        )
    await ops.set_channel_tier("slack", team, channel, tier, user)
    log.info("user %s set the tier of %s/%s to %s", user, team, channel, choice)
    shown = tier or "auto (the router chooses)"
    return CommandReply(f"This channel's default tier is now *{shown}*.")
