"""Discord over loopback, for tests that start the bot the way `switchboard run` does.

REST at `http://127.0.0.1:<port>/api/v10` checks the bot token, answers login
(`/users/@me`) and application info (`/applications/@me`, with or without the message-content
intent flag), and hands every other call to the harness's `RestRecorder`. The gateway
websocket says HELLO, acks heartbeats, checks IDENTIFY (a bad token closes with 4004, a
refused privileged intent with 4014, as Discord does), sends READY and the guild, and `push()`
sends further events. `install(monkeypatch)` points discord.py at it through its own two
class attributes (`Route.BASE`, `DiscordWebSocket.DEFAULT_GATEWAY`), so the client runs
unmodified. Pinned: discord.py==2.7.1.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket

from tests.adapters.discord.harness import RestRecorder
from tests.adapters.discord.payloads import (
    BOT_ID,
    BOT_USER,
    GUILD_ID,
    guild_payload,
    member_payload,
    now_iso,
    user_payload,
)

TOKEN = "discord-test-token"
MESSAGE_CONTENT_INTENT = 1 << 15
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19  # application flag: the intent is enabled
_ID_NAMES = {
    "channels": "channel_id",
    "messages": "message_id",
    "applications": "application_id",
    "guilds": "guild_id",
    "users": "user_id",
    "webhooks": "webhook_id",
}


def route_template(path: str) -> str:
    """`/channels/123/messages/456` -> `/channels/{channel_id}/messages/{message_id}`."""
    parts = path.strip("/").split("/")
    out = [
        f"{{{_ID_NAMES.get(parts[i - 1], 'id')}}}" if part.isdigit() and i else part
        for i, part in enumerate(parts)
    ]
    return "/" + "/".join(out)


class FakeDiscord:
    def __init__(self, *, token: str = TOKEN, message_content: bool = True) -> None:
        self.token = token
        self.message_content = message_content
        self.rest = RestRecorder()
        for channel in guild_payload()["channels"]:
            self.rest.channels[int(channel["id"])] = channel
        self.identified: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.api_url = ""
        self.gateway_url = ""
        self._sequence = 0
        self._activity = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.api_url = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self.sockets):
            await ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(discord.http.Route, "BASE", self.api_url)
        monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url))

    async def until(self, condition: Callable[[], object], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                self._activity.clear()
                await self._activity.wait()

    def application(self) -> dict[str, Any]:
        return {
            "id": str(BOT_ID),
            "name": "Switchboard",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": BOT_USER,
            "verify_key": "0" * 64,
            "flags": GATEWAY_MESSAGE_CONTENT_LIMITED if self.message_content else 0,
        }

    # --- REST ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return _json({"message": "401: Unauthorized", "code": 0}, status=401)
        path = "/" + request.match_info["path"]
        raw = await request.read()
        payload = json.loads(raw) if raw and request.content_type == "application/json" else None
        try:
            data = await self._answer(request.method, path, str(request.url), payload)
        except discord.HTTPException as error:
            return _json({"message": error.text, "code": error.code}, status=error.status)
        finally:
            self._activity.set()
        if data is None:
            return web.Response(status=204)
        return _json(data)

    async def _answer(self, method: str, path: str, url: str, payload: Any) -> Any:
        if (method, path) == ("GET", "/users/@me"):
            return BOT_USER
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return self.application()
        if (method, path) == ("GET", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
        route = SimpleNamespace(method=method, path=route_template(path), url=url)
        return await self.rest.request(route, json=payload)  # type: ignore[arg-type]

    # --- gateway ---------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45_000}})
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                if message["op"] == 1:
                    await ws.send_json({"op": 11})
                elif message["op"] == 2:
                    await self._identify(ws, message["d"])
                self._activity.set()
        finally:
            self.sockets.remove(ws)
            self._activity.set()
        return ws

    async def _identify(self, ws: web.WebSocketResponse, identify: dict[str, Any]) -> None:
        self.identified.append(identify)
        if identify.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if identify.get("intents", 0) & MESSAGE_CONTENT_INTENT and not self.message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        await self.push("READY", {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(BOT_ID), "flags": self.application()["flags"]},
        })  # fmt: skip
        await self.push("GUILD_CREATE", guild_payload())

    async def push(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (a DISPATCH) down the newest connection."""
        self._sequence += 1
        await self.sockets[-1].send_json({"op": 0, "t": event, "s": self._sequence, "d": data})

    @property
    def ready(self) -> bool:
        """Connected and identified: the guild has been sent."""
        return bool(self.sockets) and any(i.get("token") == self.token for i in self.identified)


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when the content type is exactly this.
    body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


def message_create(channel_id: int, content: str, message_id: int) -> dict[str, Any]:
    """A MESSAGE_CREATE from a member in the guild."""
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "guild_id": str(GUILD_ID),
        "author": user_payload(),
        "member": member_payload(),
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "embeds": [],
        "attachments": [],
        "pinned": False,
        "type": 0,
        "flags": 0,
        "components": [],
    }
