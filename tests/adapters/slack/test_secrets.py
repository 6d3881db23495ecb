"""Secrets never leave the process (issue 13): every SecretStr setting gets a recognisable
value, the bot answers and fails with DEBUG logging on everywhere (httpx, httpcore, aiohttp,
slack_sdk, discord), then the logs, a dump of every table, what the Slack fake recorded and the
/metrics output are searched for each secret."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from aiohttp import web
from pydantic import SecretStr

from adapters.llm.simulator import LLMSimulator
from bot.settings import Settings
from storage.tables import SQLModel
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import Harness, envelope, mention
from tests.conftest import Database, MakeApp

SECRETS = {
    name: f"SeCrEt-{name.replace('_', '-')}-7f3a9c"
    for name, field in Settings.model_fields.items()
    if field.annotation is not None and SecretStr in getattr(field.annotation, "__args__", ())
}


@pytest.fixture
async def echoing_provider() -> AsyncIterator[str]:
    """An OpenAI-compatible endpoint that refuses every key and echoes it back, as some do."""

    async def chat(request: web.Request) -> web.Response:
        key = request.headers.get("Authorization", "")
        message = f"Incorrect API key provided: {key}. You can find your key at ..."
        return web.json_response({"error": {"message": message, "key": key}}, status=401)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


async def dump(db: sa.ext.asyncio.AsyncEngine) -> str:
    found = []
    async with db.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            found.extend(repr(tuple(row)) for row in await conn.execute(sa.select(table)))
    return "\n".join(found)


async def test_no_secret_in_logs_database_messages_or_metrics(
    sqlite_db: Database,
    make_app: MakeApp,
    fake_slack: FakeSlack,
    simulator: LLMSimulator,
    echoing_provider: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert {"llm_api_key", "slack_bot_token", "slack_signing_secret", "discord_bot_token"} <= set(
        SECRETS
    )
    caplog.set_level(logging.DEBUG)
    headers = f"X-Gateway-Token: {SECRETS['llm_extra_headers']}"  # the format the setting takes
    settings = {
        **SECRETS,
        "llm_extra_headers": headers,
        "slack_api_url": fake_slack.base_url,
        "routing_strategy": "fixed",
        "fixed_model": "openai/gpt-4o-mini",
        "llm_max_retries": 0,
        "metrics_port": 9464,  # counters are kept only for a /metrics to serve (not started)
    }
    good = Harness(
        await make_app(sqlite_db, llm_base_url=simulator.base_url, **settings), fake_slack
    )
    bad = Harness(await make_app(sqlite_db, llm_base_url=echoing_provider, **settings), fake_slack)
    sign = {"secret": SECRETS["slack_signing_secret"]}
    await good.http(envelope(mention("What are your opening hours?", "100.000100")), **sign)
    await good.settle()
    await bad.http(envelope(mention("And on Sundays?", "200.000100")), **sign)
    await bad.settle()
    await good.http(envelope(mention("hi", "300.000100")), secret="wrong")  # refused: 401
    answers = [m.body for m in fake_slack.messages()]
    assert any(b.startswith("[simulated]") for b in answers)
    assert any("rejected our API key" in b for b in answers)
    assert good.app.metrics is not None
    await good.app.metrics.refresh_budgets()
    places = {
        "logs": "\n".join(
            f"{r.getMessage()} {r.exc_text or ''} {caplog.text}" for r in caplog.records
        ),
        "database": await dump(good.app.stores.db),
        "slack messages": json.dumps([c.args for c in fake_slack.calls], ensure_ascii=False),
        "/metrics": good.app.metrics.exposition().decode(),
    }
    assert "Incorrect API key provided" in places["database"]  # the provider's words are kept
    leaks = [(name, where) for name, secret in SECRETS.items()
             for where, text in places.items() if secret in text]  # fmt: skip
    assert leaks == []
    for harness in (good, bad):
        await harness.adapter.close()
