"""What the Discord adapter needs from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr

from bot.knowledge.config import handoff_mentions
from bot.settings import Settings


@dataclass(frozen=True)
class DiscordConfig:
    token: SecretStr
    help_channel_ids: tuple[int, ...] = ()
    forum_channel_ids: tuple[int, ...] = ()
    admin_ids: tuple[int, ...] = ()
    show_context_line: bool = True
    shutdown_grace_s: float = 30.0  # answers in flight get this long to finish at shutdown
    handoff_role: int | None = None  # KB_HANDOFF_MENTION's Discord role, pinged on a hand-off

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig | None:
        """None when Discord is not configured (no bot token)."""
        token = settings.discord_bot_token
        if token is None or not token.get_secret_value():
            return None
        mentions = handoff_mentions(settings.kb_handoff_mention)
        return cls(
            token=token,
            help_channel_ids=settings.discord_help_channel_ids,
            forum_channel_ids=settings.discord_forum_channel_ids,
            admin_ids=settings.discord_admin_ids,
            show_context_line=settings.show_context_line,
            shutdown_grace_s=settings.shutdown_grace_s,
            handoff_role=int(role) if (role := mentions.get("discord")) else None,
        )
