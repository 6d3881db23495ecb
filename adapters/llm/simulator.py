"""A loopback LLM that speaks Eden AI v3 / OpenAI chat completions, for demos and tests.

Every answer is fake: generated text starts with "[simulated] " (unless a test supplies its
own with `answer_override`) and every response carries the header `x-simulator: switchboard`.

    async with LLMSimulator(seed=1, speed=0) as sim:
        sim.inject(Fault("rate_limit", retry_after_s=0.5))
        base_url = sim.base_url          # "http://127.0.0.1:<port>/v3"

`@edenai` routing picks `router_candidates[blake2b(seed, last user message) % len]`. Faults are
consumed in queue order by the first requests they match (after authentication and validation).
With `report_cost=False` the server behaves like a plain OpenAI endpoint: no `cost`, `status` or
`provider` fields and no `@edenai` router. `accounting` adds cached, cache-write and reasoning
token counts and OpenRouter's `usage.cost`; `sse_extras` sends the rest of the SSE format real
providers use (`: ping` comments, `event:` and `id:` lines, JSON split over several `data:`
lines); a `stream_error` fault sends `data: {"error": ...}` mid-stream. `POST /embeddings`
answers with labelled fake vectors (simulator_embeddings.py). `strict=True` stands in for
OpenAI itself: served under `/v1`, it refuses any argument OpenAI does not document with 400
"Unrecognized request argument supplied: X" (as OpenAI does), and reports no cost.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from adapters.llm.simulator_embeddings import EMBEDDING_PROFILES, embeddings_payload
from adapters.llm.simulator_profiles import (
    DEFAULT_PROFILES,
    ROUTER_MODEL,
    ChatCall,
    Fault,
    FaultKind,
    ModelProfile,
    WireError,
    answer_text,
    count_prompt_tokens,
    fault_error,
    group_chunks,
    last_user_text,
    parse_call,
    seeded_rng,
    split_tokens,
)
from adapters.llm.simulator_wire import (
    CHAT_ARGUMENTS,
    EMBEDDING_ARGUMENTS,
    MALFORMED_LINE,
    Accounting,
    chatty_event,
    event,
    refuse_undocumented,
    stream_error_payload,
)

__all__ = [
    "DEFAULT_PROFILES",
    "ROUTER_MODEL",
    "Accounting",
    "Fault",
    "FaultKind",
    "LLMSimulator",
    "ModelProfile",
    "RecordedRequest",
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received; header names are lower-cased."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)


@dataclass
class _Pending:
    fault: Fault
    left: int


class LLMSimulator:
    """A fake Eden AI v3 endpoint on 127.0.0.1; see the module docstring for its behaviour.

    `speed` scales every simulated latency (0 = none) except `slow_first_token` faults;
    `requests` records every request received, valid or not, in order; `charged` is the
    bill: each cost it reported (USD, as sent), one per request it charged.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        profiles: Mapping[str, ModelProfile] | None = None,
        report_cost: bool = True,
        speed: float = 1.0,
        answer_override: Callable[[dict[str, Any]], str] | None = None,
        accounting: Accounting | None = None,
        sse_extras: bool = False,
        strict: bool = False,
    ) -> None:
        self.seed = seed
        self.profiles: Mapping[str, ModelProfile] = (
            DEFAULT_PROFILES if profiles is None else profiles
        )
        self.strict = strict
        self.report_cost = report_cost and not strict
        self.speed = speed
        self.answer_override = answer_override
        self.accounting = accounting or Accounting()
        self.sse_extras = sse_extras
        self.requests: list[RecordedRequest] = []
        self.charged: list[Decimal] = []
        self._faults: list[_Pending] = []
        self._served = 0
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("LLMSimulator is not running; call start() first")
        return self._base_url

    def inject(self, fault: Fault) -> None:
        self._faults.append(_Pending(fault, fault.times))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        prefix = "/v1" if self.strict else "/v3"
        app.router.add_get("/healthz", self._healthz)
        app.router.add_post(f"{prefix}/chat/completions", self._completions)
        app.router.add_post(f"{prefix}/embeddings", self._embeddings)
        app.on_response_prepare.append(_label)
        # Short shutdown timeout: a test that stops mid-stream should not wait on a slow fault.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}{prefix}"
        return self._base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- handlers -----------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "simulated": True})

    async def _received(self, request: web.Request) -> tuple[Any, dict[str, Any], bool]:
        """The request's JSON (None if it is not JSON), its body as a dict, and whether it
        carries a bearer token; every request is recorded, valid or not."""
        try:
            raw = await request.json()
        except ValueError:
            raw = None
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, body, dict(request.query)))
        authorization = headers.get("authorization", "")
        token = authorization.removeprefix("Bearer").strip()
        return raw, body, authorization.startswith("Bearer ") and bool(token)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        raw, body, authorized = await self._received(request)
        if not authorized:
            return web.json_response({"detail": "Invalid token"}, status=401)
        try:
            if self.strict:
                refuse_undocumented(body, CHAT_ARGUMENTS)
            call = parse_call(raw, self.profiles, self.seed, eden=self.report_cost)
            fault = self._take_fault(call)
            if fault is not None and (refusal := fault_error(fault, call.requested)) is not None:
                raise refusal
        except WireError as error:
            return web.json_response(error.body, status=error.status, headers=error.headers)
        self._served += 1
        text = (
            self.answer_override(body)
            if self.answer_override is not None
            else answer_text(call.profile, last_user_text(call.messages), self.seed)
        )
        tokens = split_tokens(text)
        finish = "stop"
        if call.max_tokens is not None and len(tokens) > call.max_tokens:
            tokens, finish = tokens[: call.max_tokens], "length"
        if call.stream:
            return await self._stream(request, call, fault, tokens, finish)
        return await self._reply(request, call, fault, tokens, finish)

    async def _embeddings(self, request: web.Request) -> web.Response:
        raw, body, authorized = await self._received(request)
        if not authorized:
            return web.json_response({"detail": "Invalid token"}, status=401)
        try:
            if self.strict:
                refuse_undocumented(body, EMBEDDING_ARGUMENTS)
            payload = embeddings_payload(raw, EMBEDDING_PROFILES, report_cost=self.report_cost)
            fault = self._take_fault(None, payload["model"])
            if fault is not None and (refusal := fault_error(fault, payload["model"])) is not None:
                raise refusal
        except WireError as error:
            return web.json_response(error.body, status=error.status, headers=error.headers)
        if "cost" in payload:
            self.charged.append(Decimal(repr(payload["cost"])))
        return web.json_response(payload)

    def _take_fault(self, call: ChatCall | None, model: str = "") -> Fault | None:
        names = (call.requested, call.profile.name) if call is not None else (model,)
        for pending in self._faults:
            if pending.fault.model in (None, *names):
                pending.left -= 1
                if pending.left <= 0:
                    self._faults.remove(pending)
                return pending.fault
        return None

    # -- answers ------------------------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        if seconds * self.speed > 0:
            await asyncio.sleep(seconds * self.speed)

    async def _before_first_token(
        self, call: ChatCall, fault: Fault | None, rng: random.Random
    ) -> None:
        if call.routed:
            await self._pause(rng.uniform(0.1, 0.3))
        if fault is not None and fault.kind == "slow_first_token":
            await asyncio.sleep(fault.delay_s)  # deliberately not scaled by speed
        await self._pause(call.profile.first_token_ms / 1000 * rng.uniform(0.8, 1.2))

    def _usage(self, call: ChatCall, visible: int) -> dict[str, Any]:
        prompt = count_prompt_tokens(call.messages)
        return self.accounting.usage(call.profile, prompt, visible)

    def _extras(
        self, request: web.Request, call: ChatCall, usage: dict[str, Any]
    ) -> dict[str, Any]:
        """Eden's top-level additions (none in plain OpenAI mode)."""
        if not self.report_cost:
            return {}
        cost = float(call.profile.cost_usd(usage["prompt_tokens"], usage["completion_tokens"]))
        self.charged.append(Decimal(repr(cost)))
        extras: dict[str, Any] = {"cost": cost}
        if request.headers.get("x-edenai-metadata") == "enabled":
            strategy = "router" if call.routed else "fallback" if call.fallbacks else "direct"
            extras["edenai_metadata"] = {
                "strategy": strategy,
                "served_model": call.profile.name,
                "attempts": 1,
            }
        return extras

    async def _reply(
        self,
        request: web.Request,
        call: ChatCall,
        fault: Fault | None,
        tokens: list[str],
        finish: str,
    ) -> web.StreamResponse:
        rng = seeded_rng("pace", self.seed, call.profile.name, last_user_text(call.messages))
        await self._before_first_token(call, fault, rng)
        await self._pause(len(tokens) / call.profile.tokens_per_s)
        if fault is not None and fault.kind == "disconnect":
            return _drop(request)
        if fault is not None and fault.kind == "malformed":
            return web.Response(text='{"id": "chatcmpl-sim', content_type="application/json")
        usage = self._usage(call, len(tokens))
        payload: dict[str, Any] = {
            "id": f"chatcmpl-sim-{self._served}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": call.profile.name,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": finish,
                    "message": {"role": "assistant", "content": "".join(tokens)},
                }
            ],
            "usage": usage,
        }
        if self.report_cost:
            payload |= {"status": "success", "provider": call.profile.provider}
        return web.json_response(payload | self._extras(request, call, usage))

    async def _stream(
        self,
        request: web.Request,
        call: ChatCall,
        fault: Fault | None,
        tokens: list[str],
        finish: str,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        if fault is not None and fault.kind == "slow_headers":
            await asyncio.sleep(fault.delay_s)  # like LiteLLM: nothing until its upstream answers
        await response.prepare(request)
        rng = seeded_rng("pace", self.seed, call.profile.name, last_user_text(call.messages))
        base = {
            "id": f"chatcmpl-sim-{self._served}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": call.profile.name,
        }

        sent = 0

        async def write(payload: Mapping[str, Any], name: str | None = None) -> None:
            nonlocal sent
            sent += 1
            chunk = chatty_event(payload, name, sent) if self.sse_extras else event(payload, name)
            await response.write(chunk)

        async def send(delta: dict[str, str], finish_reason: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            await write(base | {"choices": [choice]})

        await self._before_first_token(call, fault, rng)
        await send({"role": "assistant", "content": ""})
        breaking = fault.kind if fault is not None else None
        chunks = group_chunks(tokens, rng)
        after = min(fault.after_chunks, len(chunks)) if fault is not None else 0
        for i, chunk in enumerate([*chunks, None]):
            if breaking == "disconnect" and i == after:
                return _drop(request, response)
            if breaking == "malformed" and i == after:
                await response.write(MALFORMED_LINE)
            if breaking == "stream_error" and i == after and fault is not None:
                key = request.headers.get("authorization", "").removeprefix("Bearer ")
                name, payload = stream_error_payload(fault, key)
                await write(payload if name else base | payload, name)
                await response.write_eof()
                return response
            if chunk is None:
                break
            await self._pause(len(chunk) / call.profile.tokens_per_s * rng.uniform(0.7, 1.3))
            await send({"content": "".join(chunk)})
        await send({}, finish)
        if call.include_usage:
            usage = self._usage(call, len(tokens))
            await write(base | {"choices": [], "usage": usage} | self._extras(request, call, usage))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _label(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["x-simulator"] = "switchboard"


def _drop(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Cut the connection mid-response, as a crashed upstream would."""
    if request.transport is not None:
        request.transport.close()
    return response if response is not None else web.Response()
