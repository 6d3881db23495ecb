"""The one error tree. `str(error)` is always safe to show a user: no secrets, no stack traces.

The provider's errors are its branch in `bot/llm/errors.py`, next to the code that raises them.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""

    user_message = "Something went wrong while answering. Please try again."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.user_message)


class ConfigError(SwitchboardError):
    user_message = "Switchboard is misconfigured."


class ServiceUnavailable(SwitchboardError):
    """The database cannot be reached (down, or every pooled connection busy) for longer than
    Switchboard waits; nothing was answered or charged."""

    user_message = (
        "Switchboard is temporarily unavailable (it can't reach its database), so I couldn't "
        "answer. Please ask again in a few minutes."
    )


class BudgetExceeded(SwitchboardError):
    """A `block` budget refused a call: `str(error)` says which budget and when it resets."""

    user_message = "The budget for answers is spent for now."
