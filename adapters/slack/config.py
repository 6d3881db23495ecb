"""What the Slack adapter needs from the settings, and its Web API client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.knowledge.config import handoff_mentions
from bot.settings import Settings


@dataclass(frozen=True)
class SlackConfig:
    bot_token: SecretStr
    app_token: SecretStr | None = None  # Socket Mode when set
    signing_secret: SecretStr | None = None  # HTTP mode
    api_url: str = "https://slack.com/api/"
    http_port: int = 3000
    allowed_channels: tuple[str, ...] = ()
    admin_user_ids: tuple[str, ...] = ()
    slash_command: str = "/switchboard"
    stream_mode: Literal["auto", "native", "update"] = "auto"
    show_context_line: bool = True
    shutdown_grace_s: float = 30.0  # answers in flight get this long to finish at shutdown
    handoff_group: str = ""  # KB_HANDOFF_MENTION's Slack user group, pinged on a hand-off
    # How long a question may take to be stored before Slack is acknowledged (Slack wants its
    # answer within 3 s): not stored by then, the event is not acknowledged and comes again.
    store_wait_s: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackConfig | None:
        """None when Slack is not configured (no bot token, or neither mode's credential)."""
        token = settings.slack_bot_token
        if token is None or not (settings.slack_app_token or settings.slack_signing_secret):
            return None
        return cls(
            bot_token=token,
            app_token=settings.slack_app_token,
            signing_secret=settings.slack_signing_secret,
            api_url=settings.slack_api_url,
            http_port=settings.slack_http_port,
            allowed_channels=settings.slack_allowed_channels,
            admin_user_ids=settings.slack_admin_user_ids,
            slash_command=settings.slack_slash_command,
            stream_mode=settings.slack_stream_mode,
            show_context_line=settings.show_context_line,
            shutdown_grace_s=settings.shutdown_grace_s,
            handoff_group=handoff_mentions(settings.kb_handoff_mention).get("slack", ""),
            store_wait_s=min(2.0, max(0.1, settings.database_wait_s)),
        )


def web_client(token: SecretStr | None, api_url: str) -> AsyncWebClient:
    client = AsyncWebClient(token=token.get_secret_value() if token else None, base_url=api_url)
    # Honour Retry-After on 429 (twice at most) instead of failing the answer.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def slack_client(settings: Settings) -> AsyncWebClient:
    return web_client(settings.slack_bot_token, settings.slack_api_url)
