"""`switchboard doctor` against the stand-ins (LLM simulator, Slack Web API + Socket Mode,
Discord REST, SQLite): every line ✓ with good settings, and for each broken part exactly the
✗ line that names it (exit code 1)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters.cli.main import main
from adapters.llm.simulator import Fault, LLMSimulator
from adapters.slack.check import manifest_scopes
from storage.database import create_engine, upgrade
from tests.adapters.cli.environment import only_env
from tests.adapters.discord.fake_discord import FakeDiscord
from tests.adapters.discord.payloads import GENERAL_ID, HELP_ID
from tests.adapters.slack.fake_slack import FakeSlack
from tests.conftest import Database

BOT, APP = "xoxb-good", "xapp-good"


@dataclass
class World:
    llm: LLMSimulator
    slack: FakeSlack
    discord: FakeDiscord
    env: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
async def world(
    simulator: LLMSimulator, sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with FakeSlack(tokens={BOT, APP}) as slack, FakeDiscord() as discord_:
        discord_.install(monkeypatch)
        yield World(simulator, slack, discord_, {
            "LLM_API_KEY": "test-key",
            "LLM_BASE_URL": simulator.base_url,
            "SLACK_BOT_TOKEN": BOT,
            "SLACK_APP_TOKEN": APP,
            "SLACK_API_URL": slack.base_url,
            "DIGEST_SLACK_CHANNEL": "C1",
            "DISCORD_BOT_TOKEN": discord_.token,
            "DISCORD_HELP_CHANNEL_IDS": HELP_ID,
            "DIGEST_DISCORD_CHANNEL_ID": GENERAL_ID,
            "DATABASE_URL": sqlite_db.url,
            "TIMEZONE": "Europe/Paris",
        })  # fmt: skip


async def doctor(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str]]:
    only_env(monkeypatch, **{k: v for k, v in world.env.items() if v is not None})
    # main() runs its own event loop: a thread, so the stand-ins keep serving on ours.
    code = await asyncio.wait_for(asyncio.to_thread(main, ["doctor"]), 30)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out.splitlines()


async def test_all_pass_with_good_settings(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = await doctor(world, monkeypatch, capsys)
    checks = lines[:-1]
    assert all(line.startswith("✓ ") for line in checks), "\n".join(lines)
    parts = [line[2:].split(":", 1)[0] for line in checks]
    assert parts == ["routing", "LLM", "platforms", "Slack", "Slack scopes", "Socket Mode",
                     "digest channel", "Discord", "Discord intent", "help channel",
                     "digest channel", "database", "time zone"]  # fmt: skip
    assert lines[-1] == f"all {len(checks)} passed" and code == 0
    assert any("Socket Mode: connected (hello received)" in line for line in lines)
    assert len(world.llm.requests) == 1 and world.llm.requests[0].body["max_tokens"] == 1


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def database_at_0003(world: World) -> None:
    path = world.env["DATABASE_URL"].replace("test.db", "old.db")
    engine = create_engine(path)
    await upgrade(engine, "0003")
    await engine.dispose()
    world.env["DATABASE_URL"] = path


Break = Callable[[World], Any]
CASES: dict[str, tuple[Break, str]] = {
    "LLM key rejected": (
        lambda w: w.llm.inject(Fault("auth")),
        "✗ LLM: {llm} rejected LLM_API_KEY",
    ),
    "LLM not reachable": (
        lambda w: w.env.update(LLM_BASE_URL=f"http://127.0.0.1:{closed_port()}/v3"),
        "✗ LLM: cannot reach http://127.0.0.1:",
    ),
    "no LLM key": (lambda w: w.env.update(LLM_API_KEY=None), "✗ LLM: LLM_API_KEY is not set"),
    "Slack bot token": (
        lambda w: w.env.update(SLACK_BOT_TOKEN="xoxb-revoked"),
        "✗ Slack: auth.test refused SLACK_BOT_TOKEN (invalid_auth)",
    ),
    "Slack scopes": (
        lambda w: setattr(w.slack, "scopes", manifest_scopes() - {"reactions:read"}),
        "✗ Slack scopes: the bot token lacks reactions:read",
    ),
    "Slack app token": (
        lambda w: w.env.update(SLACK_APP_TOKEN="xapp-wrong"),
        "✗ Socket Mode: apps.connections.open refused SLACK_APP_TOKEN (invalid_auth)",
    ),
    "Slack digest channel": (
        lambda w: w.env.update(DIGEST_SLACK_CHANNEL="C404"),
        "✗ digest channel: Slack C404: channel_not_found",
    ),
    "bot not in the digest channel": (
        lambda w: w.slack.channels["C1"].update(is_member=False),
        "✗ digest channel: Slack #support: the bot is not a member → /invite @Switchboard",
    ),
    "Discord token": (
        lambda w: w.env.update(DISCORD_BOT_TOKEN="wrong-token"),
        "✗ Discord: Discord refused DISCORD_BOT_TOKEN (401)",
    ),
    "message content intent": (
        lambda w: setattr(w.discord, "message_content", False),
        "✗ Discord intent: the message content intent is off",
    ),
    "Discord digest channel": (
        lambda w: w.env.update(DIGEST_DISCORD_CHANNEL_ID=123_456_789_012_345_678),
        "✗ digest channel: Discord channel 123456789012345678 does not exist",
    ),
    "no database": (
        lambda w: w.env.update(DATABASE_URL=w.env["DATABASE_URL"].replace("test.db", "no.db")),
        "✗ database: no database at ",
    ),
    "database behind": (database_at_0003, "✗ database: "),
    "PostgreSQL not running": (
        lambda w: w.env.update(DATABASE_URL=f"postgresql://u:pw@127.0.0.1:{closed_port()}/sb"),
        "✗ database: cannot connect to the database at postgresql://u:***@127.0.0.1:",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_each_broken_part_gets_its_own_line(
    case: str, world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    breaking, expected = CASES[case]
    done = breaking(world)
    if asyncio.iscoroutine(done):
        await done
    code, lines = await doctor(world, monkeypatch, capsys)
    failures = [line for line in lines if line.startswith("✗")]
    assert code == 1
    assert len(failures) == 1, "\n".join(lines)
    assert failures[0].startswith(expected.format(llm=world.llm.base_url)), failures[0]
    assert "→ " in failures[0]  # the fix
    assert lines[-1] == f"{len(lines) - 2} passed, 1 failed"
