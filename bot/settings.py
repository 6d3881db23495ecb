"""Every setting Switchboard reads, from the environment and `.env`, once at start-up.

Field names map to upper-case environment variables (`llm_api_key` <- `LLM_API_KEY`).
Secrets are `SecretStr`, so they never show up in a repr or a log line.

Where things are, whatever the current directory: `.env` and every relative path in the
settings (DATA_DIR, ROUTING_FILE, a SQLite DATABASE_URL) are read relative to the Switchboard
home: SWITCHBOARD_HOME if set, else the checkout the code runs from (the directory holding
pyproject.toml), else the current directory (an installed wheel: set SWITCHBOARD_HOME).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from bot.knowledge.config import channel_collections, handoff_mentions
from bot.llm.extras import parse_headers, parse_query

MAX_BUDGET_USD = 1_000_000_000  # nano-dollars must fit a 64-bit integer with room to add
CsvList = Annotated[tuple[str, ...], NoDecode]
CsvInts = Annotated[tuple[int, ...], NoDecode]


def home_dir() -> Path:
    """The directory `.env` and relative paths are resolved against (see the module doc)."""
    configured = os.environ.get("SWITCHBOARD_HOME", "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def _under_home(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else home_dir() / path


_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def mask_url(url: str) -> str:
    """`scheme://user:secret@host` -> `scheme://user:***@host`, for messages and logs."""
    return _PASSWORD.sub(r"\1***@", url)


def database_url_for(raw: str, data_dir: Path) -> str:
    """The SQLAlchemy async URL for DATABASE_URL / --database: empty = SQLite in `data_dir`;
    a path = that SQLite file; postgres(ql):// = asyncpg; sqlite:// = aiosqlite."""
    if not raw:
        return f"sqlite+aiosqlite:///{data_dir / 'switchboard.db'}"
    if "://" not in raw:
        return f"sqlite+aiosqlite:///{_under_home(Path(raw))}"
    scheme, rest = raw.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        path = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel, sqlite:////abs
        if path in ("", ":memory:"):
            return f"sqlite+aiosqlite:///{path}"
        return f"sqlite+aiosqlite:///{_under_home(Path(path))}"
    raise ValueError(
        "unsupported database: Switchboard runs on PostgreSQL "
        "(postgresql://user:password@host:5432/name) or SQLite (a file path, or empty for "
        "DATA_DIR/switchboard.db)"
    )


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in value:
        raise ValueError("expected an http(s) URL such as https://api.edenai.run/v3")
    return value


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
    llm_extra_headers: SecretStr | None = None  # JSON object or "Name: value" pairs
    llm_extra_query: str = ""  # e.g. "api-version=2024-10-21"
    # Answer with the built-in simulator (fake, labelled answers) even when no key is set.
    llm_simulator: bool = False

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
    # How long a question waits for a refusing or stalled database before "taking longer than
    # usual" (then it goes on waiting, up to RECOVERY_MAX_AGE_S); each transaction's deadline.
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
    budget_refresh_s: float = Field(5.0, ge=0)

    # --- metrics -----------------------------------------------------------------
    metrics_port: int | None = Field(None, gt=0, lt=65536)
    metrics_host: str = "127.0.0.1"  # anything but loopback needs METRICS_TOKEN
    metrics_token: SecretStr | None = None

    # --- web dashboard -------------------------------------------------------------
    dashboard_port: int | None = Field(None, gt=0, lt=65536)  # `switchboard run` serves it if set
    dashboard_host: str = "127.0.0.1"  # anything but loopback needs DASHBOARD_TOKEN
    dashboard_token: SecretStr | None = None
    dashboard_show_texts: bool = False  # question and answer texts may hold customer data

    # --- experiments: optional LLM judge of a sample of answers -------------------
    judge_model: str = ""  # empty: no judge
    judge_sample_rate: float = Field(0.1, ge=0, le=1)

    # --- learning from the deployment's own traffic (docs/routing.md) --------------
    shadow_sample_rate: float = Field(0.0, ge=0, le=1)  # needs JUDGE_MODEL
    label_weight_shadow: float = Field(1.0, ge=0)
    label_weight_escalation: float = Field(0.8, ge=0)
    label_weight_thumbs_down: float = Field(0.3, ge=0)
    label_weight_thumbs_up: float = Field(0.3, ge=0)
    label_weight_solved: float = Field(0.3, ge=0)
    quality_min_sample: int = Field(20, ge=1)
    quality_margin_points: int = Field(1, ge=0, le=9)
    router_refresh_s: float = Field(60.0, gt=0)
    router_tune_daily: bool = False

    # --- knowledge base (docs/knowledge.md) ------------------------------------------
    kb_max_file_bytes: int = Field(2_000_000, gt=0)  # a larger document is skipped, one line
    kb_max_files: int = Field(5_000, gt=0)  # a folder with more is refused whole, one line
    kb_passages: int = Field(4, ge=1, le=20)  # passages given to the model with a question
    kb_min_confidence: float = Field(0.30, ge=0, le=1)  # below: "the docs don't cover this"
    kb_answer_without_sources: bool = True  # then answer anyway; false: hand off to people
    kb_handoff_mention: str = ""  # slack:S0123ABCD,discord:112233445566778899
    kb_channel_collections: str = ""  # C0123ABC=billing|default,112233445566=docs
    kb_auto_approve_solved: bool = False  # solved threads join the KB without an admin
    # Semantic retrieval: passages and questions embedded by this model through the provider's
    # /embeddings (each request on the ledger), fused with the word index's ranking; off: "".
    kb_embedding_model: str = ""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `switchboard run` on SIGTERM/SIGINT: how long answers in flight may take to finish.
    shutdown_grace_s: float = Field(30.0, ge=0)

    _split_lists = field_validator(
        "slack_allowed_channels",
        "slack_admin_user_ids",
        "discord_help_channel_ids",
        "discord_forum_channel_ids",
        "discord_admin_ids",
        "budget_alert_thresholds",
        mode="before",
    )(_split)

    @field_validator("llm_extra_headers")
    @classmethod
    def _valid_headers(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_headers(value.get_secret_value())
        return value

    @field_validator("kb_channel_collections")
    @classmethod
    def _valid_collections(cls, value: str) -> str:
        channel_collections(value)
        return value

    @field_validator("kb_handoff_mention")
    @classmethod
    def _valid_mention(cls, value: str) -> str:
        handoff_mentions(value)
        return value

    @field_validator("llm_extra_query")
    @classmethod
    def _valid_query(cls, value: str) -> str:
        parse_query(value)
        return value

    @field_validator("data_dir", "routing_file")
    @classmethod
    def _from_home(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _under_home(value)
        if info.field_name == "data_dir" and path.exists() and not path.is_dir():
            raise ValueError(f"a file, not a folder ({path})")
        if info.field_name == "routing_file" and path.is_dir():
            raise ValueError("a folder, not a file")
        return path

    @field_validator("budget_daily_usd", "budget_monthly_usd", "budget_channel_daily_usd",
                     "budget_user_daily_usd")  # fmt: skip
    @classmethod
    def _sane_budget(cls, value: float | None) -> float | None:
        if value is not None and not value <= MAX_BUDGET_USD:  # also catches inf
            raise ValueError(f"at most {MAX_BUDGET_USD} (USD)")
        return value

    @field_validator("budget_alert_thresholds")
    @classmethod
    def _percentages(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [str(t) for t in value if not 1 <= t <= 1000]
        if bad:
            raise ValueError("each threshold is a percentage of the budget from 1 to 1000 "
                             f"(got {', '.join(bad)})")  # fmt: skip
        return value

    @field_validator("llm_api_key", "slack_bot_token", "slack_app_token", "slack_signing_secret",
                     "discord_bot_token")  # fmt: skip
    @classmethod
    def _one_token(cls, value: SecretStr | None) -> SecretStr | None:
        """A pasted token often brings a line break along; one inside it cannot be sent."""
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if any(c.isspace() or not c.isprintable() for c in token):
            raise ValueError("contains a line break or a space: set the token alone")
        return SecretStr(token)

    @field_validator("llm_base_url", "slack_api_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("database_url")
    @classmethod
    def _valid_database(cls, value: str) -> str:
        database_url_for(value, Path("."))  # raises on an unsupported scheme
        return value

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
        return database_url_for(self.database_url, self.data_dir)

    @property
    def database_shown(self) -> str:
        """Where the database is, for messages: the SQLite file or the URL without password."""
        url = self.resolved_database_url
        if url.startswith("sqlite"):
            return url.split("///", 1)[1]
        return mask_url(self.database_url)

    @property
    def has_api_key(self) -> bool:
        return self.llm_api_key is not None and bool(self.llm_api_key.get_secret_value())

    def secret(self, name: str) -> SecretStr | None:
        """The key a routing file's provider names (`api_key_env`): the setting of that name
        (`LLM_API_KEY`), else the environment variable, else the line in `.env`."""
        field = name.lower()
        if field in type(self).model_fields:
            value = getattr(self, field)
            return value if isinstance(value, SecretStr) else SecretStr(str(value or ""))
        found = os.environ.get(name) or _dotenv().get(name)
        return SecretStr(found.strip()) if found and found.strip() else None


def _dotenv() -> dict[str, str | None]:
    from dotenv import dotenv_values  # pydantic-settings' own .env reader

    path = home_dir() / ".env"
    return dict(dotenv_values(path)) if path.is_file() else {}


def load_settings(**overrides: Any) -> Settings:
    """Read the settings (environment, then `.env` in the home directory), turning a validation
    error into one line naming each bad setting and echoing its value, secrets masked."""
    try:
        overrides.setdefault("_env_file", home_dir() / ".env")
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(_problem(e) for e in error.errors())
        raise ConfigError(f"invalid setting {problems}") from None


_SECRETS = frozenset(
    name for name, field in Settings.model_fields.items() if "SecretStr" in str(field.annotation)
)


def _problem(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    name = loc[0] if loc else "settings"
    value = error.get("input")
    if name in _SECRETS:
        shown = "(hidden)"
    elif isinstance(value, str | int | float) and len(loc) == 1:
        shown = repr(mask_url(str(value)) if isinstance(value, str) else value)
    else:
        shown = ""
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name.upper()}{'=' + shown if shown else ''}: {message}"
