"""Settings: a bad value fails at start-up naming the setting; secrets never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, home_dir, load_settings


@pytest.fixture(autouse=True)
def no_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LLM_TOTAL_TIMEOUT_S", "-1"),
        ("TIMEZONE", "Mars/Olympus"),
        ("LLM_MAX_RETRIES", "many"),
        ("DIGEST_TIME", "25:00"),
        ("BUDGET_DAILY_USD", "-5"),
    ],
)
def test_bad_setting_fails_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert name in str(caught.value)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FIXED_MODEL=openai/gpt-4o-mini\nHISTORY_MAX_MESSAGES=7\n")
    settings = load_settings()
    assert (settings.fixed_model, settings.history_max_messages) == ("openai/gpt-4o-mini", 7)


def test_secrets_never_appear_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = {"LLM_API_KEY": "sk-live-0123456789", "SLACK_BOT_TOKEN": "xoxb-secret-token",
               "DISCORD_BOT_TOKEN": "discord-secret-token"}  # fmt: skip
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for value in secrets.values():
        assert value not in shown
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == secrets["LLM_API_KEY"]
    assert settings.has_api_key


def test_bad_secret_error_does_not_echo_other_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_API_KEY", "sk-live-0123456789")
    monkeypatch.setenv("SLACK_HTTP_PORT", "99999")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "SLACK_HTTP_PORT" in str(caught.value)
    assert "sk-live" not in str(caught.value)


def test_database_url_resolution(tmp_path: Path) -> None:
    sqlite = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert sqlite.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}"
    pg = Settings(_env_file=None, database_url="postgresql://u@h:5432/db")  # type: ignore[call-arg]
    assert pg.resolved_database_url == "postgresql+asyncpg://u@h:5432/db"
    assert not Settings(_env_file=None).has_api_key  # type: ignore[call-arg]


def test_dotenv_and_relative_paths_come_from_the_home_whatever_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / ".env").write_text("DATA_DIR=var\nROUTING_FILE=conf/routing.toml\n")
    (elsewhere / ".env").write_text("DATA_DIR=wrong\n")  # a stray .env where cron runs
    monkeypatch.setenv("SWITCHBOARD_HOME", str(home))
    monkeypatch.chdir(elsewhere)
    settings = load_settings()
    assert settings.data_dir == home / "var"
    assert settings.routing_file == home / "conf" / "routing.toml"
    assert settings.database_shown == str(home / "var" / "switchboard.db")
    relative = load_settings(database_url="sqlite:///data/sb.db").resolved_database_url
    assert relative == f"sqlite+aiosqlite:///{home / 'data' / 'sb.db'}"
    assert load_settings(database_url="/srv/sb.db").resolved_database_url == (
        "sqlite+aiosqlite:////srv/sb.db"
    )


def test_without_switchboard_home_the_checkout_is_the_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_HOME")
    checkout = Path(__file__).resolve().parents[2]
    assert home_dir() == checkout
