"""`switchboard run` starts from exactly the variables the README gives, through the real SDKs:
Slack in Socket Mode (bot + app token), Slack in HTTP mode (bot token + signing secret) and
Discord (its token), each answering a question. The LLM is the simulator over loopback; Slack
and Discord are loopback stand-ins (tests/adapters/slack/fake_slack.py, .../fake_discord.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from adapters.llm.simulator import LLMSimulator
from tests.adapters.cli.environment import only_env, running, until
from tests.adapters.discord.fake_discord import FakeDiscord, message_create
from tests.adapters.discord.payloads import BOT_ID, HELP_ID
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers
from tests.adapters.slack.test_socket_mode import socket_envelope
from tests.http import http_client

QUESTION_ID = 1_250_000_000_000_000_042


def llm(simulator: LLMSimulator) -> dict[str, str]:
    """README "Pointing it at an LLM API": a key (and the base URL, here the simulator)."""
    return {"LLM_API_KEY": "test-key", "LLM_BASE_URL": simulator.base_url}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_slack_socket_mode_starts_with_the_bot_and_app_token_only(
    simulator: LLMSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeSlack() as slack:
        settings = only_env(
            monkeypatch,
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_APP_TOKEN="xapp-1",
            SLACK_API_URL=slack.base_url,  # the stand-in for slack.com
            **llm(simulator),
        )
        assert settings.slack_signing_secret is None
        async with running(settings) as run:
            await until(lambda: slack.sockets, run, 15)
            question = envelope(mention("Where is my parcel?", "700.000100"))
            await slack.push(socket_envelope(question))
            await until(lambda: slack.named("chat.stopStream"), run, 15)
        assert not slack.sockets  # closed on the way out
    [answer] = [m for m in slack.messages() if m.body != "_Thinking…_"]
    assert answer.thread_ts == "700.000100" and answer.body.startswith("[simulated]")


async def test_slack_http_mode_starts_with_the_bot_token_and_signing_secret(
    simulator: LLMSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    async with FakeSlack() as slack:
        settings = only_env(
            monkeypatch,
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_SIGNING_SECRET="readme-secret",
            SLACK_HTTP_PORT=port,
            SLACK_API_URL=slack.base_url,
            **llm(simulator),
        )
        body = json.dumps(envelope(mention("How do I reset my password?", "800.000100")))
        headers = signed_headers(body, secret="readme-secret")
        async with running(settings) as run, http_client() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            deadline = time.monotonic() + 15
            while True:  # until the listener is up
                try:
                    response = await http.post(url, content=body, headers=headers)
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline and not run.done()
                    await asyncio.sleep(0.05)
            assert response.status_code == 200
            await until(lambda: slack.named("chat.stopStream"), run, 15)
            forged = await http.post(url, content=body, headers=signed_headers(body, secret="x"))
            assert forged.status_code == 401
    [answer] = [m for m in slack.messages() if m.body != "_Thinking…_"]
    assert answer.thread_ts == "800.000100" and answer.body.startswith("[simulated]")


@pytest.mark.parametrize("model", ["api key", "LLM_SIMULATOR=true"])
async def test_discord_starts_with_its_token(
    model: str, simulator: LLMSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a key; or, without one, on the built-in simulator only when asked explicitly."""
    async with FakeDiscord() as discord_:
        discord_.install(monkeypatch)  # discord.com and the gateway -> loopback
        settings = only_env(
            monkeypatch,
            DISCORD_BOT_TOKEN=discord_.token,
            DISCORD_HELP_CHANNEL_IDS=HELP_ID,
            **(llm(simulator) if model == "api key" else {"LLM_SIMULATOR": "true"}),
        )
        async with running(settings) as run:
            await until(lambda: discord_.ready, run, 15)
            question = message_create(HELP_ID, "How do I log in?", QUESTION_ID)
            await discord_.push("MESSAGE_CREATE", question)

            def answered() -> bool:
                return any(
                    m["author"]["id"] == str(BOT_ID) and "\n-# " in m["content"]
                    for m in discord_.rest.messages.values()
                )

            await until(answered, run, 15)
    [identify] = discord_.identified
    assert identify["intents"] & (1 << 15)  # asked for message content
    [answer] = [m for m in discord_.rest.messages.values() if m["author"]["id"] == str(BOT_ID)]
    assert answer["channel_id"] == str(QUESTION_ID)  # the thread started from the question
    assert answer["content"].startswith("[simulated]")
