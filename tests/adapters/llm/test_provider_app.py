"""The provider features through the composition root: settings to the wire, the wire to the
ledger row (the app's real HTTP client against the loopback simulator)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from adapters.llm.simulator import Accounting, Fault, LLMSimulator
from storage.ledger import LEDGER_COLUMNS, Ledger
from storage.tables import calls_t, utcnow
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import RecordingReply, incoming
from tests.rows import rows

MODEL = "openai/gpt-4o"


async def test_cached_and_reasoning_tokens_are_on_the_ledger_row_and_in_the_export(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    accounting = Accounting(cached_tokens=16, reasoning_tokens=40)
    async with LLMSimulator(speed=0, report_cost=False, accounting=accounting) as sim:
        app = await fixed_app(make_app, sqlite_db, llm_base_url=sim.base_url, fixed_model=MODEL)
        outcome = await app.engine.handle(incoming("How do I reset my password?", "e1"),
                                          RecordingReply())  # fmt: skip
    assert outcome.status == "answered"
    (call,) = await rows(app.stores.db, calls_t)
    assert (call.cache_read_tokens, call.cache_write_tokens, call.reasoning_tokens) == (16, 0, 40)
    assert call.cost_source == "priced"
    # gpt-4o: $2.50/M input, $1.25/M cached input, $10/M output (reasoning included).
    assert call.cost_nano_usd == (
        (call.input_tokens - 16) * 2500 + 16 * 1250 + call.output_tokens * 10_000
    )
    now = utcnow()
    (exported,) = [r async for r in Ledger(app.stores.db).export(
        start=now - timedelta(hours=1), end=now + timedelta(hours=1))]  # fmt: skip
    assert list(exported) == list(LEDGER_COLUMNS)
    assert (exported["cache_read_tokens"], exported["reasoning_tokens"]) == (16, 40)


async def test_an_error_chunk_puts_the_providers_message_on_the_row_and_in_the_log(
    sqlite_db: Database, make_app: MakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    async with LLMSimulator(speed=0) as sim:
        sim.inject(Fault("stream_error", after_chunks=0, error_type="overloaded_error",
                         message="Overloaded", anthropic=True))  # fmt: skip
        sim.inject(Fault("stream_error", after_chunks=2, code="server_error",
                         message="Provider disconnected unexpectedly"))  # fmt: skip
        app = await fixed_app(make_app, sqlite_db, llm_base_url=sim.base_url, fixed_model=MODEL)
        with caplog.at_level(logging.WARNING):
            outcome = await app.engine.handle(incoming("How do I rotate keys?", "e1"),
                                              RecordingReply())  # fmt: skip
    # Before any text: retried like any provider error. After text: the partial answer stays.
    assert outcome.status == "incomplete"
    calls = await rows(app.stores.db, calls_t)
    assert [(c.status, c.error_kind, c.error) for c in calls] == [
        ("error", "unavailable", "in-stream error (overloaded_error): Overloaded"),
        ("incomplete", "stream_broken",
         "in-stream error (server_error): Provider disconnected unexpectedly"),
    ]  # fmt: skip
    assert "in-stream error (overloaded_error): Overloaded" in caplog.text
    assert "Provider disconnected unexpectedly" in caplog.text


async def test_extra_header_and_query_settings_reach_the_provider(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    async with LLMSimulator(speed=0) as sim:
        app = await fixed_app(
            make_app,
            sqlite_db,
            llm_base_url=sim.base_url,
            llm_extra_headers="HTTP-Referer: https://example.com, X-Title: Switchboard",
            llm_extra_query="api-version=2024-10-21",
        )
        outcome = await app.engine.handle(incoming("Hi", "e1"), RecordingReply())
    assert outcome.status == "answered"
    (sent,) = sim.requests
    assert sent.query == {"api-version": "2024-10-21"}
    assert (sent.headers["http-referer"], sent.headers["x-title"]) == (
        "https://example.com",
        "Switchboard",
    )
    assert sent.headers["authorization"] == "Bearer test-key"
