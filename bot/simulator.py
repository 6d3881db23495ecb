"""A loopback LLM that speaks Eden AI v3 / OpenAI chat completions, for demos and tests.

Every answer is fake: generated text starts with "[simulated] " (unless a test supplies its
own with `answer_override`) and every response carries the header `x-simulator: switchboard`.

    async with LLMSimulator(seed=1, speed=0) as sim:
        sim.inject(Fault("rate_limit", retry_after_s=0.5))
        base_url = sim.base_url          # "http://127.0.0.1:<port>/v3"

`@edenai` routing picks `router_candidates[blake2b(seed, last user message) % len]`. Faults are
consumed in queue order by the first requests they match (after authentication and validation).
With `report_cost=False` the server behaves like a plain OpenAI endpoint: no `cost`, `status` or
`provider` fields and no `@edenai` router.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.simulator_profiles import (
    DEFAULT_PROFILES,
    Fault,
    FaultKind,
    ModelProfile,
    answer_text,
    count_prompt_tokens,
    group_chunks,
    last_user_text,
    pick_candidate,
    seeded_rng,
    split_tokens,
)

__all__ = [
    "DEFAULT_PROFILES",
    "Fault",
    "FaultKind",
    "LLMSimulator",
    "ModelProfile",
    "RecordedRequest",
]

ROUTER_MODEL = "@edenai"
_MALFORMED_LINE = b"data: {not json\n\n"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received; header names are lower-cased."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _Pending:
    fault: Fault
    left: int


@dataclass
class _Call:
    requested: str
    profile: ModelProfile
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    routed: bool
    fallbacks: list[str] = field(default_factory=list)


class _Invalid(Exception):
    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def _unprocessable(loc: str, msg: str) -> _Invalid:
    detail = [{"loc": ["body", loc], "msg": msg, "type": "value_error"}]
    return _Invalid(web.json_response({"detail": detail}, status=422))


def _model_not_found(model: str) -> web.Response:
    error = {"message": f"Model {model} not found", "type": "invalid_request_error",
             "code": "model_not_found"}
    return web.json_response({"error": error}, status=400)


class LLMSimulator:
    def __init__(
        self,
        *,
        seed: int = 0,
        profiles: Mapping[str, ModelProfile] | None = None,
        report_cost: bool = True,
        speed: float = 1.0,
        answer_override: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.seed = seed
        self.profiles: Mapping[str, ModelProfile] = (
            DEFAULT_PROFILES if profiles is None else profiles
        )
        self.report_cost = report_cost
        self.speed = speed
        self.answer_override = answer_override
        self.requests: list[RecordedRequest] = []
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
        app.router.add_get("/healthz", self._healthz)
        app.router.add_post("/v3/chat/completions", self._completions)
        app.on_response_prepare.append(_label)
        # Short shutdown timeout: a test that stops mid-stream should not wait on a slow fault.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}/v3"
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

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        try:
            raw = await request.json()
        except ValueError:
            raw = None
        body: dict[str, Any] = raw if isinstance(raw, dict) else {}
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append(RecordedRequest(request.path, headers, body))
        token = headers.get("authorization", "").removeprefix("Bearer").strip()
        if not headers.get("authorization", "").startswith("Bearer ") or not token:
            return web.json_response({"detail": "Invalid token"}, status=401)
        try:
            if not isinstance(raw, dict):
                raise _unprocessable("", "request body must be a JSON object")
            call = self._validate(body)
        except _Invalid as invalid:
            return invalid.response
        fault = self._take_fault(call)
        if fault is not None and (refusal := self._refusal(fault, call)) is not None:
            return refusal
        self._served += 1
        text = (self.answer_override(body) if self.answer_override is not None
                else answer_text(call.profile, last_user_text(call.messages), self.seed))
        tokens = split_tokens(text)
        finish = "stop"
        if call.max_tokens is not None and len(tokens) > call.max_tokens:
            tokens, finish = tokens[: call.max_tokens], "length"
        if call.stream:
            return await self._stream(request, call, fault, tokens, finish)
        return await self._reply(request, call, fault, tokens, finish)

    def _validate(self, body: dict[str, Any]) -> _Call:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise _unprocessable("model", "model is required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _unprocessable("messages", "messages must be a non-empty list")
        if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
            raise _unprocessable("messages", "each message needs a role")
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise _unprocessable("stream", "stream must be a boolean")
        max_tokens = body.get("max_tokens")
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
            raise _unprocessable("max_tokens", "max_tokens must be a positive integer")
        fallbacks = body.get("fallbacks") or []
        if not isinstance(fallbacks, list) or len(fallbacks) > 3:
            raise _unprocessable("fallbacks", "fallbacks must be a list of at most 3 models")
        if self.report_cost and any(f not in self.profiles for f in fallbacks):
            raise _unprocessable("fallbacks", "unknown fallback model")
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        routed = self.report_cost and model == ROUTER_MODEL
        if routed:
            candidates = body.get("router_candidates")
            if (not isinstance(candidates, list) or not 1 <= len(candidates) <= 10
                    or any(not isinstance(c, str) or c not in self.profiles for c in candidates)):
                raise _unprocessable("router_candidates", "1-10 known models are required")
            served = pick_candidate(candidates, last_user_text(messages), self.seed)
        elif model in self.profiles:
            served = model
        else:
            raise _Invalid(_model_not_found(model))
        return _Call(model, self.profiles[served], messages, stream, include_usage, max_tokens,
                     routed, fallbacks)

    def _take_fault(self, call: _Call) -> Fault | None:
        for pending in self._faults:
            if pending.fault.model in (None, call.requested, call.profile.name):
                pending.left -= 1
                if pending.left <= 0:
                    self._faults.remove(pending)
                return pending.fault
        return None

    def _refusal(self, fault: Fault, call: _Call) -> web.Response | None:
        """The error response for faults that refuse the request outright, else None."""
        match fault.kind:
            case "rate_limit":
                error = {"message": "Rate limit exceeded", "type": "rate_limit_exceeded",
                         "code": "rate_limit_exceeded"}
                return web.json_response({"error": error}, status=429,
                                         headers={"Retry-After": f"{fault.retry_after_s:g}"})
            case "server_error":
                error = {"message": "Upstream provider error", "type": "server_error"}
                return web.json_response({"error": error}, status=fault.status)
            case "auth":
                return web.json_response({"detail": "Invalid token"}, status=401)
            case "credits":
                return web.json_response({"detail": "Insufficient credits"}, status=402)
            case "too_large":
                return web.json_response({"error": {"message": "Request too large"}}, status=413)
            case "bad_model":
                return _model_not_found(call.requested)
        return None

    # -- answers ------------------------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        if seconds * self.speed > 0:
            await asyncio.sleep(seconds * self.speed)

    async def _before_first_token(
        self, call: _Call, fault: Fault | None, rng: random.Random
    ) -> None:
        if call.routed:
            await self._pause(rng.uniform(0.1, 0.3))
        if fault is not None and fault.kind == "slow_first_token":
            await asyncio.sleep(fault.delay_s)  # deliberately not scaled by speed
        await self._pause(call.profile.first_token_ms / 1000 * rng.uniform(0.8, 1.2))

    def _usage(self, call: _Call, completion: int) -> dict[str, int]:
        prompt = count_prompt_tokens(call.messages)
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion}

    def _extras(self, request: web.Request, call: _Call, usage: dict[str, int]) -> dict[str, Any]:
        """Eden's top-level additions (none in plain OpenAI mode)."""
        if not self.report_cost:
            return {}
        cost = call.profile.cost_usd(usage["prompt_tokens"], usage["completion_tokens"])
        extras: dict[str, Any] = {"cost": float(cost)}
        if request.headers.get("x-edenai-metadata") == "enabled":
            strategy = "router" if call.routed else "fallback" if call.fallbacks else "direct"
            extras["edenai_metadata"] = {"strategy": strategy, "served_model": call.profile.name,
                                         "attempts": 1}
        return extras

    async def _reply(self, request: web.Request, call: _Call, fault: Fault | None,
                     tokens: list[str], finish: str) -> web.StreamResponse:
        rng = seeded_rng("pace", self.seed, call.profile.name, last_user_text(call.messages))
        await self._before_first_token(call, fault, rng)
        await self._pause(len(tokens) / call.profile.tokens_per_s)
        if fault is not None and fault.kind == "disconnect":
            return _drop(request)
        if fault is not None and fault.kind == "malformed":
            return web.Response(text='{"id": "chatcmpl-sim', content_type="application/json")
        usage = self._usage(call, len(tokens))
        payload: dict[str, Any] = {
            "id": f"chatcmpl-sim-{self._served}", "object": "chat.completion",
            "created": int(time.time()), "model": call.profile.name,
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": "".join(tokens)}}],
            "usage": usage,
        }
        if self.report_cost:
            payload |= {"status": "success", "provider": call.profile.provider}
        return web.json_response(payload | self._extras(request, call, usage))

    async def _stream(self, request: web.Request, call: _Call, fault: Fault | None,
                      tokens: list[str], finish: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        rng = seeded_rng("pace", self.seed, call.profile.name, last_user_text(call.messages))
        base = {"id": f"chatcmpl-sim-{self._served}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": call.profile.name}

        async def send(delta: dict[str, str], finish_reason: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            await response.write(_event(base | {"choices": [choice]}))

        await self._before_first_token(call, fault, rng)
        await send({"role": "assistant", "content": ""})
        breaking = fault.kind if fault is not None else None
        chunks = group_chunks(tokens, rng)
        after = min(fault.after_chunks, len(chunks)) if fault is not None else 0
        for i, chunk in enumerate([*chunks, None]):
            if breaking == "disconnect" and i == after:
                return _drop(request, response)
            if breaking == "malformed" and i == after:
                await response.write(_MALFORMED_LINE)
            if chunk is None:
                break
            await self._pause(len(chunk) / call.profile.tokens_per_s * rng.uniform(0.7, 1.3))
            await send({"content": "".join(chunk)})
        await send({}, finish)
        if call.include_usage:
            usage = self._usage(call, len(tokens))
            await response.write(_event(base | {"choices": [], "usage": usage}
                                        | self._extras(request, call, usage)))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def _label(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["x-simulator"] = "switchboard"


def _event(payload: Mapping[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _drop(request: web.Request, response: web.StreamResponse | None = None) -> web.StreamResponse:
    """Cut the connection mid-response, as a crashed upstream would."""
    if request.transport is not None:
        request.transport.close()
    return response if response is not None else web.Response()
