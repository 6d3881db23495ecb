"""Deliver Slack requests to the real Bolt app: signed over Bolt's HTTP path, or as Socket Mode."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from itertools import count
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from slack_bolt.response import BoltResponse

from adapters.composition import Switchboard
from adapters.slack.app import SlackAdapter
from adapters.slack.config import SlackConfig
from storage.tables import Call
from tests.adapters.slack.fake_slack import BOT_USER, TEAM, FakeSlack

SECRET = "test-signing-secret"
CHANNEL = "C1"
USER = "U42"
_ids = count(1)


def slack_settings(fake: FakeSlack, **overrides: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": "xoxb-test",
        "slack_signing_secret": SECRET,
        "slack_api_url": fake.base_url,
        **overrides,
    }


def envelope(event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    }


def mention(text: str, ts: str, thread_ts: str | None = None, channel: str = CHANNEL) -> dict:
    event = {
        "type": "app_mention",
        "user": USER,
        "text": f"<@{BOT_USER}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message(
    text: str,
    ts: str,
    thread_ts: str | None = None,
    channel: str = CHANNEL,
    channel_type: str = "channel",
    **extra: Any,
) -> dict:
    event = {
        "type": "message",
        "user": USER,
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def button(action_id: str, value: str, message_ts: str, thread_ts: str | None) -> dict:
    return {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": USER, "team_id": TEAM},
        "channel": {"id": CHANNEL},
        "message": {"ts": message_ts, "thread_ts": thread_ts},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
        "trigger_id": "1.2.3",
        "api_app_id": "A1",
        "token": "legacy",
    }


def slash(text: str, user: str = USER) -> dict[str, str]:
    return {
        "command": "/switchboard",
        "text": text,
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "user_id": user,
        "trigger_id": "1.2.3",
        "api_app_id": "A1",
        "token": "legacy",
    }


def signed_headers(
    body: str | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Slack's signature: an HMAC of the raw bytes (any bytes, UTF-8 or not)."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    raw = body.encode() if isinstance(body, str) else body
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw,
                                 hashlib.sha256).hexdigest()  # fmt: skip
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": signature,
    }


class Harness:
    def __init__(self, app: Switchboard, fake: FakeSlack) -> None:
        self.app, self.fake = app, fake
        config = SlackConfig.from_settings(app.settings)
        assert config is not None
        self.adapter = SlackAdapter(app.engine, app.ops, config)

    async def http(
        self,
        payload: dict[str, Any] | str,
        *,
        retry: int | None = None,
        form: bool = False,
        **sign: Any,
    ) -> BoltResponse:
        """POST as Slack does: JSON events, form-encoded interactivity and commands."""
        if isinstance(payload, str):
            body = payload
        elif form and payload.get("type") == "block_actions":
            body = urlencode({"payload": json.dumps(payload)})
        elif form:
            body = urlencode(payload)
        else:
            body = json.dumps(payload)
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        headers = signed_headers(body, content_type=kind, **sign)
        if retry is not None:
            headers |= {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
        return await self.adapter.dispatch_http(body, headers)

    async def socket(self, payload: dict[str, Any]) -> BoltResponse:
        return await self.adapter.dispatch_socket(payload)

    async def settle(self) -> None:
        await self.adapter.drain()

    async def calls(self) -> list[Any]:
        async with self.app.stores.db.connect() as conn:
            return list((await conn.execute(sa.select(Call.__table__).order_by(Call.id))).all())

    def answers(self) -> list[Any]:
        """Posted answer messages (placeholders and ephemerals excluded)."""
        return [m for m in self.fake.messages() if m.body != "_Thinking…_"]
