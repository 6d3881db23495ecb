"""Routing decisions carried out by the engine: fallback within a tier's pool, Eden's router
within a tier, escalation one tier up."""

from __future__ import annotations

from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from bot.llm.errors import ProviderUnavailable
from routing.config import load_routing
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted

ROUTING = load_routing()


def incoming(text: str, event: str, thread: str = "t") -> Incoming:
    return Incoming("console", "w", "c", thread, "u", text, event)


async def test_tiered_falls_back_within_the_pool(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await make_app(sqlite_db, routing_strategy="tiered", llm_max_retries=0)
    first, second = ROUTING.tiers["premium"][:2]
    provider.enqueue(Scripted(error=ProviderUnavailable(detail="HTTP 503"), model=first))
    outcome = await app.engine.handle(incoming("!premium explain", "e1"), ConsoleReply(echo=False))
    assert outcome.status == "answered"
    assert outcome.meta is not None and outcome.meta.model == second
    rows = await app.stores.ledger.call_rows()
    assert [(r.model, r.status, r.tier) for r in rows] == [
        (first, "error", "premium"),
        (second, "ok", "premium"),
    ]


async def test_tiered_edenai_sends_the_tier_pool_and_records_the_served_model(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    picked = ROUTING.tiers["balanced"][1]  # what Eden's router chose, reported in the stream
    provider.enqueue(Scripted(model="@edenai", served=picked))
    app = await make_app(sqlite_db, routing_strategy="tiered-edenai")
    outcome = await app.engine.handle(incoming("!balanced hello", "e1"), ConsoleReply(echo=False))
    request = provider.requests[-1]
    assert request.model == "@edenai"
    assert request.body()["router_candidates"] == list(ROUTING.tiers["balanced"])
    assert outcome.meta is not None
    assert outcome.meta.model == picked
    (row,) = await app.stores.ledger.call_rows()
    assert row.model == outcome.meta.model  # the model Eden picked, read from the stream
    assert row.tier == "balanced"


async def test_escalation_re_answers_one_tier_up(sqlite_db: Database, make_app: MakeApp) -> None:
    app = await make_app(sqlite_db, routing_strategy="tiered")
    first = await app.engine.handle(
        incoming("!budget what is SSO?", "e1"), ConsoleReply(echo=False)
    )
    assert first.meta is not None and first.meta.tier == "budget"
    again = await app.engine.escalate(first.meta.call_id, "agent", ConsoleReply(echo=False))
    assert again.meta is not None and again.meta.tier == "balanced"
    twice = await app.engine.escalate(first.meta.call_id, "agent", ConsoleReply(echo=False))
    assert twice.status == "duplicate"
