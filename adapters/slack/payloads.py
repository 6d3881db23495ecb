"""Reading Slack's payloads defensively: Bolt assumes Slack's shapes and raises on anything
else, so every body and event is checked here before Bolt or the engine sees it."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

# Message subtypes that are still a person asking something; every other subtype (edits,
# deletions, joins, bot posts) is ignored.
USER_SUBTYPES = frozenset({"file_share", "thread_broadcast"})


@dataclass(frozen=True)
class Posted:
    """A person's message event, its fields checked."""

    team: str
    channel: str
    user: str
    ts: str
    thread: str  # its thread's ts (its own ts when it starts one)
    text: str
    direct: bool  # a direct message to the bot

    @property
    def in_thread(self) -> bool:
        return self.thread != self.ts


def posted(body: dict[str, Any], event: dict[str, Any]) -> Posted | None:
    """The message a person posted, or None (a bot, an edit, a join, a malformed event)."""
    envelope = body.get("event_id", "?")
    subtype = event.get("subtype")
    if event.get("bot_id") or (subtype and (not isinstance(subtype, str)
                                            or subtype not in USER_SUBTYPES)):  # fmt: skip
        log.debug("ignored %s (subtype %s, bot %s)", envelope, subtype, event.get("bot_id"))
        return None
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    text = event.get("text")
    team = body.get("team_id") or event.get("team") or ""
    thread_ts = event.get("thread_ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)
            and isinstance(text, str) and isinstance(team, str)
            and unicode_ok(user, channel, ts, team) and user and channel and ts
            and (thread_ts is None or (isinstance(thread_ts, str) and unicode_ok(thread_ts)))
            ):  # fmt: skip
        log.warning("ignored malformed message event %s: no user/channel/ts/text", envelope)
        return None
    thread = thread_ts if isinstance(thread_ts, str) and thread_ts else ts
    return Posted(team, channel, user, ts, thread, text, event.get("channel_type") == "im")


def action_of(body: dict[str, Any]) -> tuple[int, str, str, str] | None:
    """(call id, user, channel, thread ts) of a button press, or None when malformed."""
    try:
        action = body["actions"][0]
        call_id = int(action["value"])
        user = str(body["user"]["id"])
        channel = str(body["channel"]["id"])
        message = body["message"]
        thread = str(message.get("thread_ts") or message["ts"])
    except (KeyError, IndexError, TypeError, ValueError):
        log.warning("ignored malformed button payload: %s", describe(body))
        return None
    return call_id, user, channel, thread


def malformed(body: Any) -> str:
    """Why Bolt must not see `body` ("" when it may): Bolt assumes an event is an object."""
    if not isinstance(body, dict):
        return "not a JSON object"
    if body.get("type") == "event_callback" or "event" in body:
        event = body.get("event")
        if not isinstance(event, dict):
            return "its event is not an object"
        if not isinstance(event.get("type"), str):
            return "its event has no type"
    for key in ("type", "team_id", "event_id"):
        if key in body and not (isinstance(body[key], str) and unicode_ok(body[key])):
            return f"bad {key}"
    return ""


def unicode_ok(*values: str) -> bool:
    """Valid Unicode (no lone surrogates): what every platform id is, and what a database and
    Slack's API can store and send."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and unicode_ok(value)


def as_headers(headers: Mapping[str, str]) -> dict[str, str | Sequence[str]]:
    return dict(headers.items())


def describe(body: Any) -> str:
    if not isinstance(body, dict):
        return "request"
    return ascii(body.get("event_id") or body.get("type") or "request")[:80]
