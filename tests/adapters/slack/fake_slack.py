"""A local Slack Web API server for tests: answers the methods the adapter uses, records every
call, and can be told to answer the next call of a method with an error or a 429.

It also folds the recorded calls into `messages()`: what each posted message finally shows
(post, updates and native stream appends applied), so tests assert on what a user would see.

`apps.connections.open` hands out a local Socket Mode websocket: it greets with `hello`, `push()`
sends envelopes down it, and every frame the client sends back (the acks) lands in `frames`.
`until(condition)` waits (woken by each call, connection and frame) for a condition to hold.

`tokens` (when given) are the only tokens it accepts: any other gets `invalid_auth`, as Slack
answers a wrong or revoked token. `auth.test` reports the granted `scopes` in the
`x-oauth-scopes` header, as Slack does (default: every scope the manifest asks for).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from adapters.slack.check import manifest_scopes

BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T1"


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)
    peer: Any = None  # the client's (host, port): one per TCP connection


@dataclass
class Failure:
    method: str
    status: int = 200
    error: str = "internal_error"
    retry_after: int = 0


@dataclass
class Message:
    channel: str
    ts: str
    thread_ts: str | None
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    streamed: bool = False

    @property
    def body(self) -> str:
        """The answer text shown: the markdown block (or the streamed text, or `text`)."""
        for block in self.blocks:
            if block.get("type") == "markdown":
                return str(block["text"])
        return self.text

    def block(self, kind: str) -> dict[str, Any] | None:
        return next((b for b in self.blocks if b.get("type") == kind), None)


class FakeSlack:
    def __init__(
        self,
        *,
        native_streaming: bool = True,
        assistant_status: bool = True,
        tokens: set[str] | None = None,
        scopes: frozenset[str] | None = None,
    ) -> None:
        self.native_streaming = native_streaming
        self.assistant_status = assistant_status
        self.tokens = tokens
        self.scopes = manifest_scopes() if scopes is None else scopes
        self.channels: dict[str, dict[str, Any]] = {
            "C1": {"id": "C1", "name": "support", "is_member": True},
        }
        self.calls: list[ApiCall] = []
        self.uploads: list[bytes] = []
        self._failures: list[Failure] = []
        self._ts = 1_700_000_000_000_100
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.socket_url = ""
        self.socket_tokens: list[str] = []  # the Authorization of each apps.connections.open
        self.frames: list[dict[str, Any]] = []  # what Socket Mode clients sent, in order
        self._activity = asyncio.Event()
        self.sockets: list[web.WebSocketResponse] = []
        self._hangs: list[str] = []
        self._release = asyncio.Event()

    async def __aenter__(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)  # a few methods are GETs
        app.router.add_post("/upload/{file}", self._upload)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/"
        self.socket_url = f"ws://127.0.0.1:{port}/socket"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        self._release.set()
        for ws in list(self.sockets):  # each handler removes its own socket
            await ws.close()
        await self._runner.cleanup()

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # answers the client's pings (autoping)
        await ws.prepare(request)
        self.sockets.append(ws)
        self._activity.set()
        await ws.send_json({
            "type": "hello",
            "num_connections": len(self.sockets),
            "connection_info": {"app_id": "A1"},
            "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
        })  # fmt: skip
        try:
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    self.frames.append(json.loads(frame.data))
                    self._activity.set()
        finally:
            self.sockets.remove(ws)
        return ws

    async def until(self, condition: Callable[[], object], timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                self._activity.clear()
                await self._activity.wait()

    async def push(self, envelope: dict[str, Any]) -> None:
        """Send an envelope down the newest Socket Mode connection."""
        await self.sockets[-1].send_json(envelope)

    def hang_next(self, method: str) -> None:
        """Apply the next call of `method`, then never answer it (the caller "dies" waiting)."""
        self._hangs.append(method)

    def fail_next(self, method: str, **kwargs: Any) -> None:
        """Answer the next call of `method` with an error (or a 429 with Retry-After)."""
        self._failures.append(Failure(method, **kwargs))

    def named(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def next_ts(self) -> str:
        self._ts += 100
        return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads.append(await request.read())
        return web.Response(text="OK")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args: dict[str, Any] = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
            args.update(dict(request.query))
        for key in ("blocks", "files"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        transport = request.transport
        call = ApiCall(
            method, args, peer=transport.get_extra_info("peername") if transport else None
        )
        self.calls.append(call)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens is not None and token not in self.tokens:
            call.response = {"ok": False, "error": "invalid_auth"}
            self._activity.set()
            return web.json_response(call.response)
        failure = next((f for f in self._failures if f.method == method), None)
        if failure is not None:
            self._failures.remove(failure)
            if failure.status == 429:
                call.response = {"ok": False, "error": "ratelimited"}
                headers = {"Retry-After": str(failure.retry_after)}
                return web.json_response(call.response, status=429, headers=headers)
            call.response = {"ok": False, "error": failure.error}
            return web.json_response(call.response, status=failure.status)
        call.response = self._answer(method, args, request)
        self._activity.set()
        if method in self._hangs:
            self._hangs.remove(method)
            await self._release.wait()
        headers = {"x-oauth-scopes": ",".join(sorted(self.scopes))} if method == "auth.test" else {}
        return web.json_response(call.response, headers=headers)

    def _answer(self, method: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        channel = args.get("channel") or args.get("channel_id")
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": BOT_ID,
                "team_id": TEAM,
                "team": "Test",
                "user": "switchboard",
                "url": "https://test.slack.com/",
            }
        if method == "apps.connections.open":
            self.socket_tokens.append(request.headers.get("Authorization", ""))
            return {"ok": True, "url": self.socket_url}
        if method == "chat.startStream" and not self.native_streaming:
            return {"ok": False, "error": "unknown_method"}
        if method in ("chat.postMessage", "chat.startStream"):
            return {"ok": True, "channel": channel, "ts": self.next_ts()}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream"):
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "assistant.threads.setStatus":
            return {"ok": True} if self.assistant_status else {"ok": False, "error": "not_allowed"}
        if method == "conversations.info":
            found = self.channels.get(str(channel))
            return {"ok": True, "channel": found} if found else {
                "ok": False, "error": "channel_not_found"}  # fmt: skip
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method == "files.getUploadURLExternal":
            upload = str(request.url.with_path("/upload/F1").with_query(None))
            return {"ok": True, "upload_url": upload, "file_id": "F1"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": "F1", "title": "chart"}]}
        return {"ok": False, "error": "unknown_method"}

    def messages(self) -> list[Message]:
        """Every message the bot posted, as it finally looks, in posting order."""
        by_ts: dict[str, Message] = {}
        for call in self.calls:
            args = call.args
            if call.method in _CREATES:
                ts = call.response.get("ts")
                if not ts:
                    continue
                message = Message(args["channel"], ts, args.get("thread_ts"))
                if call.method == "chat.startStream":
                    message.streamed = True
                    message.text = args.get("markdown_text", "")
                else:
                    message.text, message.blocks = args.get("text", ""), args.get("blocks") or []
                by_ts[ts] = message
            elif call.method == "chat.update" and args.get("ts") in by_ts:
                message = by_ts[args["ts"]]
                message.text, message.blocks = args.get("text", ""), args.get("blocks") or []
            elif (
                call.method in ("chat.appendStream", "chat.stopStream") and args.get("ts") in by_ts
            ):
                message = by_ts[args["ts"]]
                message.text += args.get("markdown_text", "")
                if args.get("blocks"):
                    message.blocks = [{"type": "markdown", "text": message.text}, *args["blocks"]]
        return list(by_ts.values())


_CREATES = ("chat.postMessage", "chat.startStream")
