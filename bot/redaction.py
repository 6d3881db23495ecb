"""Secrets out of every log line and stored error text.

A `Redactor` knows the configured secrets (every `SecretStr` setting) and replaces each with
`[redacted]`. `LogRedaction` applies it to every log record at creation, whichever library
logged it and whichever handler prints it (httpx, httpcore, aiohttp, slack_sdk and discord.py
DEBUG output included): the message, its arguments and any traceback text.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import SecretStr

from bot.settings import Settings

MASK = "[redacted]"
MIN_LENGTH = 6  # shorter values would mask ordinary words; no real credential is that short


class Redactor:
    """The one redactor: log lines, and the provider text kept as a call's error (a provider
    may echo the API key, or a credential sent as an extra header)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        found = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_LENGTH}
        self.secrets = tuple(sorted(found, key=len, reverse=True))  # longest: no half-redacted

    @classmethod
    def of(cls, secrets: Iterable[str]) -> Redactor:
        return cls(secrets)

    @classmethod
    def from_settings(cls, settings: Settings, also: Iterable[str] = ()) -> Redactor:
        """Every secret setting, and `also` (the keys a routing file's providers name)."""
        values = (
            value.get_secret_value()
            for name in type(settings).model_fields
            if isinstance(value := getattr(settings, name), SecretStr)
        )
        return cls([*values, *also])

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


class LogRedaction:
    """Wraps the log-record factory; `uninstall` undoes it (safe in any order: a wrapper that
    is no longer on top just stops redacting and passes records through)."""

    def __init__(self, redact: Redactor) -> None:
        self._redact = redact
        self._previous: Callable[..., logging.LogRecord] | None = None
        self._active = False

    def install(self) -> LogRedaction:
        if self._redact.secrets and not self._active:
            self._previous = logging.getLogRecordFactory()
            logging.setLogRecordFactory(self._record)
            self._active = True
        return self

    def uninstall(self) -> None:
        self._active = False
        if logging.getLogRecordFactory() == self._record and self._previous is not None:
            logging.setLogRecordFactory(self._previous)

    def _record(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._previous is not None
        record = self._previous(*args, **kwargs)
        if self._active:
            scrub(record, self._redact)
        return record


def scrub(record: logging.LogRecord, redact: Redactor) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it for logging to report
        return
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
