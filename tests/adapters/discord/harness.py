"""Drive the real discord.py client offline. The ONLY place private discord.py APIs are used.

Gateway events go through discord.py's own parsers (`ConnectionState.parse_*`), so handlers get
real `discord.Message` / `Interaction` objects. REST calls are captured where discord.py makes
them: `HTTPClient.request` (bot REST) and the webhook adapter (`async_context`, interaction
callbacks and follow-ups). Both answer with realistic Discord JSON. Pinned: discord.py==2.7.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import discord
from discord.http import Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from adapters.composition import Switchboard
from adapters.discord.client import SwitchboardBot
from tests.adapters.discord.payloads import (
    ADMIN_ID,
    ADMIN_ROLE_ID,
    BOT_ID,
    BOT_USER,
    FORUM_ID,
    GENERAL_ID,
    GUILD_ID,
    HELP_ID,
    USER_ID,
    channel_payload,
    guild_payload,
    member_payload,
    now_iso,
    thread_payload,
    user_payload,
)

__all__ = [
    "ADMIN_ID",
    "ADMIN_ROLE_ID",
    "BOT_ID",
    "BOT_USER",
    "FORUM_ID",
    "GENERAL_ID",
    "GUILD_ID",
    "HELP_ID",
    "USER_ID",
    "Harness",
    "RestCall",
    "RestRecorder",
    "channel_payload",
    "guild_payload",
    "member_payload",
    "now_iso",
    "thread_payload",
    "user_payload",
]

TASK_PREFIXES = ("discord.py:", "CommandTree-invoker", "discord-ui-")


@dataclass
class RestCall:
    method: str
    path: str  # the route template, e.g. /channels/{channel_id}/messages
    url: str
    json: Any
    at: float  # time.monotonic() when the call was made
    files: int = 0


@dataclass
class Failure:
    method: str
    path: str
    status: int
    code: int
    times: int = 1


@dataclass
class _Response:  # what discord.HTTPException reads from a response
    status: int
    reason: str


@dataclass
class RestRecorder:
    """Every REST call, answered like Discord would; `fail(...)` injects an error response,
    `stall(...)` a call Discord never answers."""

    calls: list[RestCall] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    stalls: list[Callable[[RestCall], bool]] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1_300_000_000_000_000_000))

    def fail(
        self, method: str, path: str, status: int = 500, code: int = 0, times: int = 1
    ) -> None:
        self.failures.append(Failure(method, path, status, code, times))

    def stall(self, when: Callable[[RestCall], bool]) -> None:
        """Calls matching `when` are recorded, then never answered (the caller waits forever)."""
        self.stalls.append(when)

    def of(self, method: str, path: str) -> list[RestCall]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def _record(self, method: str, path: str, url: str, payload: Any, files: int) -> None:
        self.calls.append(RestCall(method, path, url, payload, time.monotonic(), files))
        for failure in self.failures:
            if failure.times and failure.method == method and failure.path == path:
                failure.times -= 1
                raise discord.HTTPException(
                    _Response(failure.status, "Injected"),
                    {"code": failure.code, "message": f"injected {failure.status}"},
                )

    def message(
        self,
        channel_id: int,
        payload: dict[str, Any],
        author: dict[str, Any],
        message_id: int | None = None,
    ) -> dict[str, Any]:
        data = {
            "id": str(message_id or next(self.ids)),
            "channel_id": str(channel_id),
            "author": author,
            "content": payload.get("content") or "",
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": payload.get("embeds") or [],
            "pinned": False,
            "type": 0,
            "flags": payload.get("flags", 0),
            "components": payload.get("components") or [],
        }
        if str(channel_id) in {str(k) for k in self.channels} or channel_id in (
            HELP_ID,
            GENERAL_ID,
        ):
            data["guild_id"] = str(GUILD_ID)
        self.messages[int(data["id"])] = data
        return data

    async def request(
        self, route: Route, *, files: Any = None, form: Any = None, **kwargs: Any
    ) -> Any:
        payload = kwargs.get("json")
        if payload is None and form:
            payload = next(
                (json.loads(f["value"]) for f in form if f["name"] == "payload_json"), None
            )
        self._record(route.method, route.path, route.url, payload, len(files or ()))
        if any(when(self.calls[-1]) for when in self.stalls):
            await asyncio.Event().wait()
        ids = [int(x) for x in re.findall(r"/(\d{5,})", route.url)]
        key = (route.method, route.path)
        if key == ("POST", "/channels/{channel_id}/messages"):
            return self.message(ids[0], payload or {}, BOT_USER)
        if key == ("PATCH", "/channels/{channel_id}/messages/{message_id}"):
            stored = self.messages[ids[1]]
            stored.update(
                {
                    k: v
                    for k, v in (payload or {}).items()
                    if k in ("content", "components", "embeds")
                }
            )
            stored["edited_timestamp"] = now_iso()
            return dict(stored)
        if key == ("POST", "/channels/{channel_id}/typing"):
            return None
        if key == ("POST", "/channels/{channel_id}/messages/{message_id}/threads"):
            thread = thread_payload(ids[1], ids[0], payload["name"], BOT_ID)
            self.channels[ids[1]] = thread
            return thread
        if key == ("GET", "/channels/{channel_id}"):
            if ids[0] not in self.channels:
                raise discord.NotFound(
                    _Response(404, "Not Found"), {"code": 10003, "message": "Unknown Channel"}
                )
            return self.channels[ids[0]]
        if key == ("PUT", "/applications/{application_id}/commands"):
            return [
                {
                    **command,
                    "id": str(next(self.ids)),
                    "application_id": str(BOT_ID),
                    "version": "1",
                    "type": command.get("type", 1),
                }
                for command in payload
            ]
        raise AssertionError(f"unexpected REST call {route.method} {route.path}")


class RecordingWebhookAdapter(AsyncWebhookAdapter):
    """Interaction callbacks and follow-ups, recorded into the same `RestRecorder`."""

    def __init__(self, rest: RestRecorder) -> None:
        super().__init__()
        self.rest = rest
        self.originals: dict[str, int] = {}  # interaction token -> message id

    async def request(
        self,
        route: Route,
        session: Any,
        *,
        payload: Any = None,
        multipart: Any = None,
        files: Any = None,
        **kwargs: Any,
    ) -> Any:
        if payload is None and multipart:
            payload = next(
                (json.loads(p["value"]) for p in multipart if p["name"] == "payload_json"), None
            )
        self.rest._record(route.method, route.path, route.url, payload, len(files or ()))
        token = route.webhook_token or ""
        channel_id = self.channel_of.get(token, 0)
        if route.path == "/interactions/{webhook_id}/{webhook_token}/callback":
            kind = payload["type"]
            data = payload.get("data") or {}
            result: dict[str, Any] = {
                "interaction": {
                    "id": str(route.webhook_id),
                    "type": 2,
                    "response_message_loading": kind == 5,
                    "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                }
            }
            if kind == 4:
                message = self.rest.message(channel_id, data, BOT_USER)
                self.originals[token] = int(message["id"])
                result["interaction"]["response_message_id"] = message["id"]
                result["resource"] = {"type": 4, "message": message}
            return result
        if route.path.endswith("/messages/@original"):
            return self.rest.messages[self.originals[token]]
        if route.method == "POST" and route.path == "/webhooks/{webhook_id}/{webhook_token}":
            return self.rest.message(channel_id, payload or {}, BOT_USER)
        raise AssertionError(f"unexpected webhook call {route.method} {route.path}")

    channel_of: dict[str, int] = {}  # noqa: RUF012 - replaced per instance in Harness


class Harness:
    """A `SwitchboardBot` with a guild, fed gateway payloads, its REST recorded."""

    def __init__(self, bot: SwitchboardBot, app: Switchboard) -> None:
        self.bot, self.app = bot, app
        self.rest = RestRecorder()
        self.webhooks = RecordingWebhookAdapter(self.rest)
        self.webhooks.channel_of = {}
        self.errors: list[str] = []
        self.ids = itertools.count(1_200_000_000_000_000_000)
        state = bot._connection
        self.state = state

    async def start(self) -> Harness:
        bot, state = self.bot, self.state
        await bot._async_setup_hook()
        bot.http.request = self.rest.request  # type: ignore[method-assign]
        state.user = discord.ClientUser(state=state, data=BOT_USER)  # type: ignore[arg-type]
        state.application_id = BOT_ID

        async def on_error(event: str, *args: Any, **kwargs: Any) -> None:
            import traceback

            self.errors.append(f"{event}: {traceback.format_exc()}")

        bot.on_error = on_error  # type: ignore[method-assign]
        await bot.setup_hook()
        state.parse_guild_create(guild_payload())  # type: ignore[arg-type]
        for channel in guild_payload()["channels"]:
            self.rest.channels[int(channel["id"])] = channel
        await self.settle()
        return self

    async def close(self) -> None:
        await self.settle()
        await self.bot.close()

    async def settle(self, limit_s: float = 20.0) -> None:
        """Wait until every event handler, command and button task discord.py started is done."""
        deadline = time.monotonic() + limit_s
        while True:
            pending = [
                t
                for t in asyncio.all_tasks()
                if not t.done() and t.get_name().startswith(TASK_PREFIXES)
            ]
            if not pending:
                return
            left = deadline - time.monotonic()
            assert left > 0, f"handlers still running: {pending}"
            await asyncio.wait(pending, timeout=left)

    # --- gateway events ---------------------------------------------------------------

    def message_payload(
        self,
        channel_id: int,
        content: str,
        *,
        author_id: int = USER_ID,
        bot: bool = False,
        message_id: int | None = None,
        attachments: int = 0,
        kind: int = 0,
        guild: bool = True,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(message_id or next(self.ids)),
            "channel_id": str(channel_id),
            "author": user_payload(author_id, "alice" if author_id == USER_ID else "bob", bot),
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "embeds": [],
            "attachments": [
                {
                    "id": str(next(self.ids)),
                    "filename": f"shot{i}.png",
                    "size": 1024,
                    "url": "https://cdn.example/shot.png",
                    "proxy_url": "https://cdn.example/p.png",
                    "content_type": "image/png",
                }
                for i in range(attachments)
            ],
            "pinned": False,
            "type": kind,
            "flags": 0,
            "components": [],
        }
        if guild:
            data["guild_id"] = str(GUILD_ID)
            data["member"] = member_payload()
        return data

    async def message(self, channel_id: int, content: str, **kwargs: Any) -> dict[str, Any]:
        data = self.message_payload(channel_id, content, **kwargs)
        await self.dispatch_message(data)
        return data

    async def dispatch_message(self, data: dict[str, Any]) -> None:
        self.state.parse_message_create(data)  # type: ignore[arg-type]
        await self.settle()

    async def thread_created(self, thread_id: int) -> None:
        """The gateway's THREAD_CREATE for a thread the bot made over REST."""
        self.state.parse_thread_create(self.rest.channels[thread_id])  # type: ignore[arg-type]
        await self.settle()

    async def forum_post(self, title: str, content: str) -> int:
        thread_id = next(self.ids)
        thread = thread_payload(thread_id, FORUM_ID, title, USER_ID)
        self.rest.channels[thread_id] = thread
        self.state.parse_thread_create(thread)  # type: ignore[arg-type]
        # A forum post's starter message has the thread's id.
        await self.message(thread_id, content, message_id=thread_id)
        return thread_id

    async def reaction(
        self,
        message_id: int,
        emoji: str,
        *,
        add: bool = True,
        user_id: int = USER_ID,
        channel_id: int = HELP_ID,
    ) -> None:
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "guild_id": str(GUILD_ID),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if add:
            data["member"] = {**member_payload(), "user": user_payload(user_id)}
            self.state.parse_message_reaction_add(data)  # type: ignore[arg-type]
        else:
            self.state.parse_message_reaction_remove(data)  # type: ignore[arg-type]
        await self.settle()

    def _interaction(
        self,
        kind: int,
        channel: dict[str, Any],
        user_id: int,
        roles: tuple[int, ...],
        permissions: int,
        data: dict[str, Any],
    ) -> dict[str, Any]:
        interaction_id = next(self.ids)
        token = f"token-{interaction_id}"
        self.webhooks.channel_of[token] = int(channel["id"])
        return {
            "id": str(interaction_id),
            "application_id": str(BOT_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": channel["id"],
            "channel": channel,
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "member": {
                **member_payload(roles),
                "user": user_payload(user_id),
                "permissions": str(permissions),
            },
            "app_permissions": "562949953421311",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 8_388_608,
        }

    async def dispatch_interaction(self, payload: dict[str, Any]) -> None:
        # Interaction responses go through the webhook adapter held in a ContextVar; tasks that
        # discord.py starts for this interaction copy the context, so they see the recorder.
        reset = async_context.set(self.webhooks)
        try:
            self.state.parse_interaction_create(payload)  # type: ignore[arg-type]
        finally:
            async_context.reset(reset)
        await self.settle()

    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel_id: int = HELP_ID,
        user_id: int = USER_ID,
        roles: tuple[int, ...] = (),
        permissions: int = 0,
    ) -> dict[str, Any]:
        channel = self.rest.channels[channel_id]
        command = next(c for c in self.bot.tree.get_commands() if c.name == name)
        data = {
            "id": str(next(self.ids)),
            "name": command.name,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()],
        }
        payload = self._interaction(2, channel, user_id, roles, permissions, data)
        await self.dispatch_interaction(payload)
        return payload

    async def click(self, message_id: int, custom_id: str, *, user_id: int = USER_ID) -> None:
        message = self.rest.messages[message_id]
        channel = self.rest.channels[int(message["channel_id"])]
        payload = self._interaction(
            3, channel, user_id, (), 0, {"custom_id": custom_id, "component_type": 2}
        )
        payload["message"] = message
        await self.dispatch_interaction(payload)

    # --- what the bot posted ---------------------------------------------------------------

    def bot_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return [
            m
            for m in self.rest.messages.values()
            if int(m["channel_id"]) == channel_id and m["author"]["id"] == str(BOT_ID)
        ]

    @contextlib.contextmanager
    def no_new_calls(self) -> Iterator[None]:
        before = len(self.rest.calls)
        yield
        assert self.rest.calls[before:] == []
