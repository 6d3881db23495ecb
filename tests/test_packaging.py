"""The Dockerfile and compose.yaml (images cannot be built here): every variable they set is a
real setting with a valid value, and the entry point is a real command."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from adapters.cli.main import parser
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NOT_SETTINGS = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "SWITCHBOARD_HOME"}


def compose_environment(service: str) -> dict[str, str]:
    """`services.<service>.environment` of compose.yaml (a mapping), found by indentation."""
    lines = (ROOT / "compose.yaml").read_text().splitlines()
    found: dict[str, str] = {}
    path: list[tuple[int, str]] = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        path = [(d, k) for d, k in path if d < depth]
        if [k for _, k in path] == ["services", service, "environment"]:
            found[key] = value.strip().strip('"')
        path.append((depth, key))
    return found


def interpolated(value: str) -> str:
    """Compose's `${NAME:-default}` -> default, `${NAME:?error}` -> a stand-in secret."""
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{\w+:\?[^}]*\}", "stand-in-secret", value)


def dockerfile() -> tuple[dict[str, str], list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    command: list[str] = []
    for line in text.splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", rest)))
        elif instruction in ("ENTRYPOINT", "CMD"):
            command += json.loads(rest)
    return env, command


def test_every_compose_variable_is_a_setting_with_a_valid_value() -> None:
    environment = compose_environment("bot")
    assert {"DATABASE_URL", "LLM_API_KEY", "SLACK_BOT_TOKEN"} <= set(environment)
    assert set(environment) <= {name.upper() for name in Settings.model_fields}
    values = {k.lower(): interpolated(v) for k, v in environment.items()}
    settings = Settings(_env_file=None, **{k: v for k, v in values.items() if v})  # type: ignore[arg-type]
    assert settings.resolved_database_url == (
        "postgresql+asyncpg://switchboard:stand-in-secret@db:5432/switchboard"
    )
    assert compose_environment("db")["POSTGRES_DB"] == "switchboard"
    assert "image: postgres:16" in (ROOT / "compose.yaml").read_text()


def test_the_image_runs_a_real_command_with_real_settings() -> None:
    env, command = dockerfile()
    assert set(env) - NOT_SETTINGS <= {name.upper() for name in Settings.model_fields}
    assert command == ["switchboard", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["switchboard"] == "adapters.cli.main:main"
    args = parser(command[1:]).parse_args(command[1:])
    assert args.func.__module__ == "adapters.cli.commands.run"
    health = (ROOT / "Dockerfile").read_text()
    assert f"http://127.0.0.1:{env['METRICS_PORT']}/healthz" in health
    assert "USER switchboard" in health  # not root
