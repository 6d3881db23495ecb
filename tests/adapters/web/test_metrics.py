from __future__ import annotations

import asyncio
import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families

from adapters.services import services
from adapters.web.access import Access
from adapters.web.metrics import serve
from bot.llm.errors import ProviderUnavailable
from tests.bot.experiments.helpers import ask
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted
from tests.http import http_client
from tests.imports import modules_after


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_endpoint_shows_calls_latency_cost_errors_and_budget(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    port = free_port()
    app = await make_app(
        sqlite_db,
        routing_strategy="fixed",
        fixed_model="openai/gpt-4o-mini",
        metrics_port=port,
        budget_daily_usd=2.0,
    )
    provider.enqueue(Scripted(error=ProviderUnavailable(detail="HTTP 500")))
    for i in range(3):
        assert (await ask(app, f"t{i}", f"Where is my order {i}?", f"e{i}")).status == "answered"
    task = asyncio.create_task(serve(app.metrics, app.stores.db, Access("127.0.0.1"), port))
    try:
        async with http_client(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    scraped = await client.get("/metrics")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.02)
            health = await client.get("/healthz")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain; version=")
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
    found = samples(scraped.text)
    base = {
        "platform": "console",
        "strategy": "fixed",
        "tier": "",
        "model": "openai/gpt-4o-mini",
        "purpose": "answer",
    }
    assert found[("switchboard_llm_calls_total", frozenset({**base, "status": "ok"}.items()))] == 3
    assert (
        found[("switchboard_llm_calls_total", frozenset({**base, "status": "error"}.items()))] == 1
    )
    kind = frozenset({"kind": "unavailable", "model": "openai/gpt-4o-mini"}.items())
    assert found[("switchboard_provider_errors_total", kind)] == 1
    timing = frozenset({k: base[k] for k in ("platform", "strategy", "tier", "model")}.items())
    assert found[("switchboard_llm_latency_seconds_count", timing)] == 4
    assert found[("switchboard_llm_time_to_first_token_seconds_count", timing)] == 3
    decision = frozenset({"strategy": "fixed"}.items())
    assert found[("switchboard_routing_decision_seconds_count", decision)] == 3
    cost = found[("switchboard_llm_cost_usd_total", frozenset({**base, "status": "ok"}.items()))]
    daily = frozenset({"budget": "daily"}.items())
    assert cost > 0 and abs(found[("switchboard_budget_spent_usd", daily)] - cost) < 1e-9
    assert found[("switchboard_budget_limit_usd", daily)] == 2.0
    assert abs(found[("switchboard_budget_used_ratio", daily)] - cost / 2.0) < 1e-9


async def test_metrics_are_kept_and_served_only_with_a_port_and_registries_are_per_app(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    none = await make_app(sqlite_db)
    assert "metrics" not in services(none) and none.metrics is None
    await ask(none, "t0", "hello there?", "e0")  # answered without counters
    first = await make_app(sqlite_db, metrics_port=9464)
    second = await make_app(sqlite_db, metrics_port=9465)
    assert "metrics" in services(first) and "metrics" in services(second)
    assert first.metrics is not None and second.metrics is not None
    await ask(first, "t1", "hello there?", "e1")
    assert b"switchboard_llm_calls_total{" in first.metrics.exposition()
    assert b"switchboard_llm_calls_total{" not in second.metrics.exposition()


def test_a_bot_without_a_metrics_port_does_not_import_prometheus_client() -> None:
    """~1 MB of idle RSS (prometheus_client, http.server, wsgiref) that nothing would read."""
    code = "import adapters.cli.commands.run, adapters.composition, adapters.services"
    assert "prometheus_client" not in modules_after(code)
