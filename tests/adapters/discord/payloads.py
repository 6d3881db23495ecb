"""Realistic Discord gateway/REST JSON for the offline harness (ids, users, channels, guild)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

GUILD_ID = 111_000_000_000_000_001
HELP_ID = 222_000_000_000_000_001
FORUM_ID = 333_000_000_000_000_001
GENERAL_ID = 444_000_000_000_000_001
ADMIN_ROLE_ID = 555_000_000_000_000_001
BOT_ID = 900_000_000_000_000_001
USER_ID = 700_000_000_000_000_001
ADMIN_ID = 700_000_000_000_000_002

BOT_USER = {
    "id": str(BOT_ID),
    "username": "switchboard",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int = USER_ID, name: str = "alice", bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
    }


def member_payload(roles: tuple[int, ...] = ()) -> dict[str, Any]:
    return {
        "roles": [str(r) for r in roles],
        "joined_at": now_iso(),
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def channel_payload(channel_id: int, name: str, kind: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(channel_id),
        "type": kind,
        "name": name,
        "position": 0,
        "guild_id": str(GUILD_ID),
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "topic": None,
        "last_message_id": None,
        "flags": 0,
    }
    if kind == 15:
        data.update(
            available_tags=[],
            default_reaction_emoji=None,
            default_sort_order=None,
            default_forum_layout=0,
        )
    return data


def thread_payload(thread_id: int, parent_id: int, name: str, owner: int) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(owner),
        "name": name,
        "type": 11,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "applied_tags": [],
        "newly_created": True,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": now_iso(),
            "locked": False,
        },
    }


def guild_payload() -> dict[str, Any]:
    role = {
        "id": str(GUILD_ID),
        "name": "@everyone",
        "permissions": "104324673",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }
    admin = {**role, "id": str(ADMIN_ROLE_ID), "name": "helpers", "position": 1}
    return {
        "id": str(GUILD_ID),
        "name": "Support Server",
        "owner_id": str(ADMIN_ID),
        "roles": [role, admin],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 3,
        "large": False,
        "unavailable": False,
        "threads": [],
        "channels": [
            channel_payload(HELP_ID, "help"),
            channel_payload(FORUM_ID, "questions", 15),
            channel_payload(GENERAL_ID, "general"),
        ],
        "members": [{**member_payload(), "user": BOT_USER}],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "mfa_level": 0,
        "verification_level": 0,
        "nsfw_level": 0,
        "explicit_content_filter": 0,
        "default_message_notifications": 0,
        "system_channel_flags": 0,
        "preferred_locale": "en-US",
        "afk_timeout": 300,
    }
