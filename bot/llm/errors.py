"""What can go wrong with a provider request: the LLM branch of the error tree (`bot/errors.py`).

`retryable` errors may succeed on another try or model; each `kind` is stored on the call row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import SwitchboardError

if TYPE_CHECKING:
    from bot.llm.types import StreamResult


class ProviderError(SwitchboardError):
    """The LLM provider failed. `retryable` errors may succeed on another try or model."""

    retryable = False
    kind = "provider"

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        super().__init__(message)
        # What the provider said, for logs and the call row; may be technical, never a secret.
        self.detail = detail[:500]


class AuthenticationFailed(ProviderError):
    kind = "auth"
    user_message = "The LLM provider rejected our API key. An admin needs to check LLM_API_KEY."


class OutOfCredits(ProviderError):
    kind = "credits"
    user_message = "The LLM provider account is out of credits. An admin needs to top it up."


class RateLimited(ProviderError):
    kind = "rate_limited"
    retryable = True
    user_message = "The LLM provider is rate limiting us. Please try again in a minute."

    def __init__(
        self, message: str | None = None, *, detail: str = "", retry_after_s: float | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.retry_after_s = retry_after_s


class ProviderUnavailable(ProviderError):
    kind = "unavailable"
    retryable = True
    user_message = "The LLM provider is having trouble right now. Please try again shortly."


class ProviderTimeout(ProviderError):
    kind = "timeout"
    retryable = True
    user_message = "The LLM provider took too long to answer. Please try again."


class RequestTooLarge(ProviderError):
    kind = "too_large"
    user_message = "That conversation is too long for the model. Please start a new thread."


class BadRequest(ProviderError):
    """The provider refused the request itself (unknown model, invalid field)."""

    kind = "bad_request"
    user_message = "The LLM provider refused the request. An admin should check the model settings."


class StreamBroken(ProviderError):
    """The stream ended before it was complete (after some text may have reached the user)."""

    kind = "stream_broken"
    retryable = True
    user_message = "The answer was cut off by the LLM provider."
    partial: StreamResult | None = None  # what arrived before the break


class Interrupted(ProviderError):
    """The process stopped (crashed) while this request was in flight."""

    kind = "interrupted"
    user_message = "Switchboard restarted while answering."
