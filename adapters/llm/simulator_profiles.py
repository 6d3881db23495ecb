"""What a simulated model is, how it reads a request and what it says; no I/O here.

Price/latency profiles, faults and the error bodies they produce, request validation with
Eden's status codes, token counting and the fake answers themselves.

Everything here is deterministic given its inputs; the only randomness comes from
`random.Random` instances seeded from a blake2b digest (never the global generator, never
Python's per-process `hash()`), so two simulators with the same seed say the same thing.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

SIMULATED_PREFIX = "[simulated] "
ROUTER_MODEL = "@edenai"

FaultKind = Literal[
    "rate_limit",
    "server_error",
    "slow_first_token",
    "slow_headers",  # no response headers until `delay_s` (a proxy waiting on its upstream)
    "disconnect",
    "malformed",
    "auth",
    "credits",
    "too_large",
    "bad_model",
    "stream_error",
]


@dataclass(frozen=True)
class ModelProfile:
    """How one simulated model prices, paces and sizes its answers."""

    name: str
    input_usd_per_mtok: Decimal
    output_usd_per_mtok: Decimal
    first_token_ms: int
    tokens_per_s: float
    answer_tokens: tuple[int, int]

    @property
    def provider(self) -> str:
        return self.name.split("/", 1)[0]

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Exact price of one call, as Eden would report it (before float conversion)."""
        million = Decimal(1_000_000)
        return (
            Decimal(prompt_tokens) * self.input_usd_per_mtok
            + Decimal(completion_tokens) * self.output_usd_per_mtok
        ) / million


@dataclass(frozen=True)
class Fault:
    """One injected failure; it hits the next `times` matching requests, then is used up."""

    kind: FaultKind
    model: str | None = None
    times: int = 1
    retry_after_s: float = 1.0
    status: int = 500
    after_chunks: int = 2
    delay_s: float = 5.0
    # stream_error: the error object sent mid-stream; "{api_key}" in the message becomes the
    # caller's key (providers do echo keys). `anthropic` sends it as Anthropic does:
    # `event: error` and `{"type": "error", "error": {...}}`.
    error_type: str = "server_error"
    message: str = "Upstream provider error"
    code: int | str | None = None
    anthropic: bool = False


def _profile(
    name: str, price_in: str, price_out: str, first_ms: int, tps: float, lo: int, hi: int
) -> ModelProfile:
    return ModelProfile(name, Decimal(price_in), Decimal(price_out), first_ms, tps, (lo, hi))


# Late-2025 list prices (USD per 1M tokens). Cheap models answer sooner, faster and shorter;
# premium ones think longer and say more.
DEFAULT_PROFILES: Mapping[str, ModelProfile] = MappingProxyType(
    {
        p.name: p
        for p in (
            _profile("openai/gpt-4o-mini", "0.15", "0.60", 350, 90.0, 40, 140),
            _profile("openai/gpt-4o", "2.50", "10.00", 550, 60.0, 80, 260),
            _profile("google/gemini-2.0-flash", "0.10", "0.40", 300, 140.0, 40, 150),
            _profile("google/gemini-2.5-pro", "1.25", "10.00", 1600, 70.0, 150, 400),
            _profile("anthropic/claude-haiku-4-5", "1.00", "5.00", 450, 110.0, 50, 180),
            _profile("anthropic/claude-sonnet-4-5", "3.00", "15.00", 900, 60.0, 120, 350),
            _profile("anthropic/claude-opus-4-5", "5.00", "25.00", 1400, 40.0, 150, 450),
            _profile("mistral/mistral-small-latest", "0.10", "0.30", 300, 120.0, 30, 120),
        )
    }
)


def seeded_rng(*parts: object) -> random.Random:
    """A private generator derived from `parts` (stable across processes, unlike `hash()`)."""
    key = "\x1f".join(str(p) for p in parts).encode()
    return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big"))


def content_text(content: Any) -> str:
    """Text of a message `content`: a string, or OpenAI content parts (`{"type": "text"}` ones)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def count_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """ceil(total characters of all contents / 4) + 4 per message."""
    chars = sum(len(content_text(m.get("content"))) for m in messages)
    return math.ceil(chars / 4) + 4 * len(messages)


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def pick_candidate(candidates: Sequence[str], last_user: str, seed: int) -> str:
    """The `@edenai` router's choice: blake2b(seed, last user message) mod len(candidates)."""
    key = f"{seed}\x1f{last_user}".encode()
    digest = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return candidates[digest % len(candidates)]


_OPENERS = (
    "about {topic},",
    "regarding {topic},",
    "for {topic},",
    "if {topic} is the problem,",
    "usually",
    "in most setups",
    "first of all,",
    "as a next step",
    "in short,",
)
_PHRASES = (
    "check that the settings are saved",
    "restart the service once",
    "the token may have expired",
    "the cache can still hold an older value",
    "compare the timestamps in the logs",
    "confirm the account has access to the workspace",
    "run the sync job again",
    "try again from the dashboard",
    "update the configuration file",
    "look at the last deploy",
    "the error message names the failing step",
    "a fresh session often clears it",
    "ask an admin to review the permissions",
    "the documentation covers this case",
)


def answer_text(profile: ModelProfile, last_user: str, seed: int) -> str:
    """The simulated answer: "[simulated] " then filler sentences (1 word = 1 token).

    The word count, label included, is drawn from `profile.answer_tokens`; a word from the
    question is woven in so the fake answer reads as if on topic.
    """
    rng = seeded_rng("answer", seed, profile.name, last_user)
    lo, hi = profile.answer_tokens
    total = max(1, rng.randint(lo, hi))
    topics = re.findall(r"[A-Za-z][A-Za-z'-]{4,}", last_user) or ["this"]
    words: list[str] = []
    while len(words) < total - 1:
        opener = rng.choice(_OPENERS).format(topic=rng.choice(topics).lower())
        clauses = [rng.choice(_PHRASES) for _ in range(rng.randint(1, 2))]
        sentence = f"{opener} {' and '.join(clauses)}.".split()
        words.extend(sentence)
    words = words[: total - 1]
    sentence_start = True
    for i, word in enumerate(words):
        if sentence_start:
            words[i] = word[:1].upper() + word[1:]
        sentence_start = word.endswith(".")
    if words and not words[-1].endswith("."):
        words[-1] = words[-1].rstrip(",") + "."
    return " ".join([SIMULATED_PREFIX.strip(), *words])


def split_tokens(text: str) -> list[str]:
    """Split exact text into word tokens whose concatenation is `text` (whitespace kept)."""
    pieces = re.findall(r"\s*\S+", text)
    tail = text[len("".join(pieces)) :]
    if tail:
        if pieces:
            pieces[-1] += tail
        else:
            pieces = [tail]
    return pieces


def group_chunks(tokens: Sequence[str], rng: random.Random) -> list[list[str]]:
    """Group tokens into stream chunks of 1-4 tokens each."""
    chunks: list[list[str]] = []
    i = 0
    while i < len(tokens):
        size = rng.randint(1, 4)
        chunks.append(list(tokens[i : i + size]))
        i += size
    return chunks


class WireError(Exception):
    """An HTTP error answer: status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass
class ChatCall:
    """A validated chat-completions request."""

    requested: str
    profile: ModelProfile
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    routed: bool
    fallbacks: list[str] = field(default_factory=list)


def _unprocessable(loc: str, msg: str) -> WireError:
    return WireError(422, {"detail": [{"loc": ["body", loc], "msg": msg, "type": "value_error"}]})


def model_not_found(model: str) -> WireError:
    error = {
        "message": f"Model {model} not found",
        "type": "invalid_request_error",
        "code": "model_not_found",
    }
    return WireError(400, {"error": error})


def parse_call(
    body: Any, profiles: Mapping[str, ModelProfile], seed: int, *, eden: bool
) -> ChatCall:
    """Validate a request body as Eden would (422 / 400); `eden=False` has no `@edenai`."""
    if not isinstance(body, dict):
        raise _unprocessable("", "request body must be a JSON object")
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
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise _unprocessable("max_tokens", "max_tokens must be a positive integer")
    fallbacks = body.get("fallbacks") or []
    if not isinstance(fallbacks, list) or len(fallbacks) > 3:
        raise _unprocessable("fallbacks", "fallbacks must be a list of at most 3 models")
    if eden and any(f not in profiles for f in fallbacks):
        raise _unprocessable("fallbacks", "unknown fallback model")
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True
    routed = eden and model == ROUTER_MODEL
    if routed:
        candidates = body.get("router_candidates")
        if (
            not isinstance(candidates, list)
            or not 1 <= len(candidates) <= 10
            or any(not isinstance(c, str) or c not in profiles for c in candidates)
        ):
            raise _unprocessable("router_candidates", "1-10 known models are required")
        served = pick_candidate(candidates, last_user_text(messages), seed)
    elif model in profiles:
        served = model
    else:
        raise model_not_found(model)
    return ChatCall(
        model, profiles[served], messages, stream, include_usage, max_tokens, routed, fallbacks
    )


def fault_error(fault: Fault, requested: str) -> WireError | None:
    """The error for faults that refuse a request outright; None for those that act mid-answer."""
    match fault.kind:
        case "rate_limit":
            error = {
                "message": "Rate limit exceeded",
                "type": "rate_limit_exceeded",
                "code": "rate_limit_exceeded",
            }
            return WireError(429, {"error": error}, {"Retry-After": f"{fault.retry_after_s:g}"})
        case "server_error":
            error = {"message": "Upstream provider error", "type": "server_error"}
            return WireError(fault.status, {"error": error})
        case "auth":
            return WireError(401, {"detail": "Invalid token"})
        case "credits":
            return WireError(402, {"detail": "Insufficient credits"})
        case "too_large":
            return WireError(413, {"error": {"message": "Request too large"}})
        case "bad_model":
            return model_not_found(requested)
    return None
