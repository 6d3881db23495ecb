"""Is an LLM API reachable with its key? One minimal request (one output token) to one model.

The request goes through the bot's own metered call path (`Calls.check`: the provider client,
the body an answer sends, once: no retry, no fallback), so the answer says exactly what a real
question would meet. The provider bills it, so it is on the ledger, with purpose `check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.findings import Finding, failed, passed
from bot.llm.calls import Calls
from bot.llm.errors import (
    AuthenticationFailed,
    BadRequest,
    OutOfCredits,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
)

PART = "LLM"


@dataclass(frozen=True)
class Target:
    """One provider to check: where, which model, and the names a fix should mention."""

    base_url: str
    model: str  # the routing key (a model on this provider)
    part: str = PART  # "LLM", or "LLM provider local"
    key_setting: str = "LLM_API_KEY"
    url_setting: str = "LLM_BASE_URL"


async def probe(calls: Calls, target: Target) -> Finding:
    done = await calls.check(target.model)
    base_url, model, part = target.base_url, target.model, target.part
    if isinstance(done.error, ProviderError):
        return _failure(done.error, target)
    if done.result is None:
        return failed(part, f"{base_url}: {done.error}", "see the provider status")
    return passed(part, f"{base_url} answered {model} ({done.result.latency_ms} ms)")


def _failure(error: ProviderError, target: Target) -> Finding:
    said = error.detail or error.kind
    base_url, model, part = target.base_url, target.model, target.part
    if isinstance(error, AuthenticationFailed):
        return failed(
            part,
            f"{base_url} rejected {target.key_setting} ({said})",
            f"set {target.key_setting} to a valid key for this provider",
            fatal=True,
        )
    if isinstance(error, OutOfCredits):
        return failed(
            part,
            f"{base_url}: the account is out of credits ({said})",
            "top up the provider account",
        )
    if isinstance(error, BadRequest) and said.startswith("HTTP 404"):
        return failed(
            part,
            f"{base_url}/chat/completions does not exist ({said})",
            f"set {target.url_setting} to the API's OpenAI-compatible base, e.g. "
            "https://api.openai.com/v1",
            fatal=True,
        )
    if isinstance(error, BadRequest):
        return failed(
            part,
            f"{base_url} refused a request to {model} ({said})",
            "check the model names in the routing file for this provider",
        )
    if isinstance(error, RateLimited | ProviderTimeout):
        return failed(part, f"{base_url} is slow or rate limiting ({said})", "try again later")
    if isinstance(error, ProviderUnavailable) and said.split(":")[0].endswith("Error"):
        # an httpx transport error (ConnectError, ...), not an answer: nothing is listening
        return failed(
            part,
            f"cannot reach {base_url} ({said})",
            f"check {target.url_setting} and the network",
            fatal=True,
        )
    return failed(part, f"{base_url} failed ({said})", "try again later; see the provider status")
