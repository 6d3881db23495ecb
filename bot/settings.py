"""Every setting Switchboard reads, from the environment and `.env`, once at start-up.

Field names map to upper-case environment variables (`llm_api_key` <- `LLM_API_KEY`).
Secrets are `SecretStr`, so they never show up in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError

CsvList = Annotated[tuple[str, ...], NoDecode]
CsvInts = Annotated[tuple[int, ...], NoDecode]


def _split(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # `NAME=` in .env means "use the default"
        extra="ignore",
        frozen=True,
    )

    # --- storage -------------------------------------------------------------
    database_url: str = ""
    data_dir: Path = Path("var")

    # --- LLM provider (any OpenAI-compatible API; Eden AI v3 by default) -------
    llm_base_url: str = "https://api.edenai.run/v3"
    llm_api_key: SecretStr | None = None
    llm_connect_timeout_s: float = Field(5.0, gt=0)
    llm_first_token_timeout_s: float = Field(30.0, gt=0)
    llm_total_timeout_s: float = Field(120.0, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10)
    llm_backoff_base_s: float = Field(0.5, ge=0)
    llm_backoff_max_s: float = Field(8.0, ge=0)
    llm_max_output_tokens: int = Field(1024, gt=0)

    # --- conversation ----------------------------------------------------------
    system_prompt: str = (
        "You are a concise, friendly support assistant. Answer accurately; say when you don't know."
    )
    history_token_budget: int = Field(3000, gt=0)
    history_max_messages: int = Field(40, gt=0)
    max_question_tokens: int = Field(6000, gt=0)
    # Crash recovery: a question is held by one replica for this long (renewed while it is
    # answered); after a crash, unanswered questions younger than RECOVERY_MAX_AGE_S are
    # answered (checked at start-up and every RECOVERY_INTERVAL_S), older ones get an apology.
    answer_lease_s: float = Field(30.0, gt=0)
    recovery_max_age_s: float = Field(300.0, ge=0)
    recovery_interval_s: float = Field(15.0, gt=0)
    # How long a question waits for an unreachable database before "temporarily unavailable".
    database_wait_s: float = Field(10.0, ge=0)

    # --- routing ---------------------------------------------------------------
    routing_strategy: str = "tiered"
    fixed_model: str = "openai/gpt-4o"
    routing_file: Path | None = None
    # Who may force a tier ("!premium", /ask tier, "ask a stronger model"), up to which tier,
    # and whether above a tier an admin pinned for the channel. Admins may always.
    tier_force_by: Literal["everyone", "admins", "nobody"] = "everyone"
    tier_force_max: Literal["budget", "balanced", "premium"] = "premium"
    tier_force_above_channel: bool = False

    # --- simulator -------------------------------------------------------------
    simulator_seed: int = 0

    # --- Slack -------------------------------------------------------------------
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_port: int = Field(3000, gt=0, lt=65536)
    slack_allowed_channels: CsvList = ()
    slack_admin_user_ids: CsvList = ()
    slack_slash_command: str = "/switchboard"
    slack_stream_mode: Literal["auto", "native", "update"] = "auto"

    # --- Discord -----------------------------------------------------------------
    discord_bot_token: SecretStr | None = None
    discord_help_channel_ids: CsvInts = ()
    discord_forum_channel_ids: CsvInts = ()
    discord_admin_ids: CsvInts = ()

    # --- replies ---------------------------------------------------------------
    show_context_line: bool = True

    # --- spend, budgets, digest --------------------------------------------------
    timezone: str = "UTC"
    digest_time: str = "09:00"
    digest_slack_channel: str = ""
    digest_discord_channel_id: int | None = None
    baseline_model: str = ""
    budget_daily_usd: float | None = Field(None, ge=0)
    budget_monthly_usd: float | None = Field(None, ge=0)
    budget_channel_daily_usd: float | None = Field(None, ge=0)
    budget_user_daily_usd: float | None = Field(None, ge=0)
    budget_alert_thresholds: CsvInts = (50, 80, 100)
    budget_action: Literal["downgrade", "block"] = "downgrade"

    # --- metrics -----------------------------------------------------------------
    metrics_port: int | None = Field(None, gt=0, lt=65536)

    # --- experiments: optional LLM judge of a sample of answers -------------------
    judge_model: str = ""  # empty: no judge
    judge_sample_rate: float = Field(0.1, ge=0, le=1)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    _split_lists = field_validator(
        "slack_allowed_channels",
        "slack_admin_user_ids",
        "discord_help_channel_ids",
        "discord_forum_channel_ids",
        "discord_admin_ids",
        "budget_alert_thresholds",
        mode="before",
    )(_split)

    @field_validator("digest_time")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("expected HH:MM, e.g. 09:00")
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"sqlite+aiosqlite:///{self.data_dir / 'switchboard.db'}"

    @property
    def has_api_key(self) -> bool:
        return self.llm_api_key is not None and bool(self.llm_api_key.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one message naming each bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper() or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConfigError(f"Invalid setting(s): {problems}") from None
