"""Candidates are (provider, model): each provider gets the request body it takes, and the
fallback crosses providers. The app's real HTTP clients against loopback stand-ins: the
simulator as Eden AI (`/v3`), and as OpenAI itself (`strict`: `/v1`, refusing every argument
OpenAI does not document, as OpenAI does)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.checks import doctor
from adapters.llm.simulator import DEFAULT_PROFILES, Fault, LLMSimulator, ModelProfile
from bot.llm.pricing import Pricer
from bot.llm.types import Usage
from routing.config import DEFAULT_ROUTING_FILE
from storage.tables import calls_t
from tests.conftest import Database, MakeApp, MakeSettings
from tests.fakes import RecordingReply, incoming
from tests.http import http_client
from tests.rows import rows

EDEN_ONLY = ("session_id", "router_candidates", "fallbacks")


def routing_with(tmp_path: Path, tiers: str, providers: str = "", eden: bool = True) -> Path:
    """The bundled routing file with other tiers, providers and (or without) [edenai]."""
    text = DEFAULT_ROUTING_FILE.read_text(encoding="utf-8")
    head, _, rest = text.partition("[tiers]")
    _, _, rest = rest.partition("[thresholds]")
    thresholds, _, eden_section = rest.partition("[edenai]")
    path = tmp_path / "routing.toml"
    path.write_text(head + "[tiers]\n" + tiers + "\n[thresholds]" + thresholds + providers
                    + ("[edenai]" + eden_section if eden else ""))  # fmt: skip
    return path


@pytest.mark.parametrize("strategy", ["fixed", "tiered", "keyword"])
async def test_answers_through_every_strategy_without_eden_work_against_openai_itself(
    strategy: str, sqlite_db: Database, make_app: MakeApp, tmp_path: Path
) -> None:
    async with LLMSimulator(speed=0, strict=True) as openai:
        app = await make_app(sqlite_db, llm_base_url=openai.base_url, routing_strategy=strategy,
                             routing_file=routing_with(tmp_path, TIERS, eden=False))  # fmt: skip
        outcome = await app.engine.handle(incoming("How do I reset my password?", "e1"),
                                          RecordingReply())  # fmt: skip
        found = await app.calls.embed(["reset password"], model="openai/text-embedding-3-small")
    assert outcome.status == "answered", outcome.message
    assert len(found.vectors) == 1
    [chat, embedding] = openai.requests
    assert not set(EDEN_ONLY) & set(chat.body) and chat.body["max_tokens"] == 1024
    assert set(embedding.body) == {"model", "input"}
    stored = await rows(app.stores.db, calls_t)
    # OpenAI reports no cost: both priced from the usage it reported, at list prices.
    assert [(c.purpose, c.status, c.cost_source) for c in stored] == [
        ("answer", "ok", "priced"), ("embedding", "ok", "priced")]  # fmt: skip


async def test_doctor_checks_openai_itself_with_the_body_an_answer_sends_on_the_ledger(
    sqlite_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> None:
    async with LLMSimulator(speed=0, strict=True) as openai:
        routing = routing_with(tmp_path, TIERS, eden=False)
        settings = make_settings(database_url=sqlite_db.url, llm_base_url=openai.base_url,
                                 routing_file=routing)  # fmt: skip
        findings = await doctor(settings, openai.base_url)
    [llm] = [f for f in findings if f.part == "LLM"]
    assert llm.ok, llm.line()
    [check] = openai.requests
    assert not set(EDEN_ONLY) & set(check.body) and check.body["max_tokens"] == 1
    db = sqlite_db.engine()
    try:
        [row] = await rows(db, calls_t)
    finally:
        await db.dispose()
    assert (row.purpose, row.provider, row.status, row.thread_id) == ("check", "default", "ok",
                                                                      None)  # fmt: skip


async def test_the_stand_in_refuses_what_openai_does_not_document() -> None:
    """The stand-in is as strict as claimed: Eden's `session_id` sent to it is refused."""
    body = {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}],
            "session_id": "thread-1"}  # fmt: skip
    async with LLMSimulator(speed=0, strict=True) as openai, http_client() as http:
        response = await http.post(openai.base_url + "/chat/completions", json=body,
                                   headers={"Authorization": "Bearer k"})  # fmt: skip
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Unrecognized request argument supplied: session_id"
    )


async def test_eden_extras_still_reach_an_eden_ai_base_url(
    sqlite_db: Database, make_app: MakeApp
) -> None:
    async with LLMSimulator(speed=0) as eden:
        app = await make_app(sqlite_db, llm_base_url=eden.base_url,
                             routing_strategy="tiered-edenai")  # fmt: skip
        outcome = await app.engine.handle(incoming("!balanced hello", "e1"), RecordingReply())
    assert outcome.status == "answered", outcome.message
    [request] = eden.requests
    assert request.body["model"] == "@edenai"
    assert request.body["router_candidates"] == list(app.routing.config.tiers["balanced"])
    assert request.body["session_id"].startswith("thread-")


TIERS = """budget = ["openai/gpt-4o-mini", "google/gemini-2.0-flash"]
balanced = ["openai/gpt-4o"]
premium = ["anthropic/claude-sonnet-4-5"]
"""

BACKUP = """
[providers.backup]
base_url = "{url}"
api_key_env = "BACKUP_LLM_KEY"
"""


async def test_the_fallback_crosses_providers_and_the_ledger_names_each(
    sqlite_db: Database, make_app: MakeApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The budget tier: Eden AI first; when it is down, an alias on our own OpenAI-compatible
    # proxy, priced as the model it stands for (the proxy reports no cost).
    alias = ModelProfile("support-fast", Decimal("0.15"), Decimal("0.60"), 0, 100.0, (10, 20))
    monkeypatch.setenv("BACKUP_LLM_KEY", "backup-secret-key")
    tiers = ('budget = ["openai/gpt-4o-mini", { provider = "backup", model = "support-fast", '
             'price_as = "openai/gpt-4o-mini" }]\nbalanced = ["openai/gpt-4o"]\n'
             'premium = [{ provider = "backup", model = "support-fast", '
             'price_as = "openai/gpt-4o-mini" }]\n')  # fmt: skip
    async with LLMSimulator(speed=0) as eden, LLMSimulator(
        speed=0, strict=True, profiles={**DEFAULT_PROFILES, "support-fast": alias}
    ) as proxy:
        eden.inject(Fault("server_error", status=503, times=10))
        routing = routing_with(tmp_path, tiers, BACKUP.format(url=proxy.base_url))
        app = await make_app(sqlite_db, llm_base_url=eden.base_url, routing_file=routing,
                             routing_strategy="tiered", llm_max_retries=1)  # fmt: skip
        outcome = await app.engine.handle(incoming("!budget where is my invoice?", "e1"),
                                          RecordingReply())  # fmt: skip
    assert outcome.status == "answered", outcome.message
    assert outcome.meta is not None and outcome.meta.model == "support-fast"
    stored = await rows(app.stores.db, calls_t)
    assert [(c.provider, c.model_asked, c.status, c.attempt) for c in stored] == [
        ("default", "openai/gpt-4o-mini", "error", 1),
        ("default", "openai/gpt-4o-mini", "error", 2),
        ("backup", "support-fast", "ok", 3),
    ]
    [answer] = proxy.requests
    assert answer.headers["authorization"] == "Bearer backup-secret-key"
    assert not set(EDEN_ONLY) & set(answer.body)
    served = stored[-1]
    usage = Usage(served.input_tokens, served.output_tokens)
    assert served.cost_source == "priced"
    assert served.cost_nano_usd == Pricer().price("openai/gpt-4o-mini", usage)
    # The baseline is the premium tier's first model as priced: the alias's real model.
    assert served.baseline_cost_nano_usd == served.cost_nano_usd
