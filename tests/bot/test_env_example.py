"""`.env.example` documents every setting, each with a comment."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_listed_with_a_comment() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    listed = {}
    for number, line in enumerate(lines):
        if line and not line.startswith("#") and "=" in line:
            listed[line.split("=", 1)[0].lower()] = number
    assert set(listed) == set(Settings.model_fields)
    for name, number in listed.items():
        above = lines[number - 1]
        assert above.startswith("#") or "=" in above, f"{name} has no comment"


def test_the_example_file_loads_as_valid_settings() -> None:
    Settings(_env_file=str(ENV_EXAMPLE))  # type: ignore[call-arg]
