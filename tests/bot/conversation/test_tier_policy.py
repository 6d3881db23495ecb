"""Who may force a tier (a "!premium" prefix, a tier command, "ask a stronger model") and up to
which tier: by default nobody but an admin goes above a tier an admin pinned for the channel."""

from __future__ import annotations

from typing import Any

from adapters.composition import Switchboard
from bot.conversation.messages import Outcome
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, RecordingReply, incoming

BUDGET = "openai/gpt-4o-mini"


async def ask(app: Switchboard, text: str, event: str, **kw: Any) -> tuple[Outcome, RecordingReply]:
    reply = RecordingReply()
    outcome = await app.engine.handle(incoming(text, event, thread=event, **kw), reply)
    return outcome, reply


async def test_prefix_cannot_go_above_the_tier_an_admin_pinned(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await make_app(sqlite_db, routing_strategy="keyword")
    await app.ops.set_channel_tier("slack", "T1", "C1", "budget", "UADMIN")
    outcome, reply = await ask(app, "!premium Explain our refund policy", "e1")
    assert outcome.meta is not None and outcome.meta.tier == "budget"
    assert provider.models_asked == [BUDGET]
    assert reply.final is not None and "pinned" in reply.final and "budget" in reply.final
    # The same prefix from an admin is honoured; so is a prefix at or below the pinned tier.
    outcome, _ = await ask(app, "!premium Explain our refund policy", "e2", admin=True)
    assert outcome.meta is not None and outcome.meta.tier == "premium"
    outcome, reply = await ask(app, "!budget What time is it?", "e3")
    assert outcome.meta is not None and outcome.meta.tier == "budget"
    assert reply.final is not None and "pinned" not in reply.final


async def test_escalation_is_held_to_the_pinned_tier_too(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await make_app(sqlite_db, routing_strategy="keyword")
    await app.ops.set_channel_tier("slack", "T1", "C1", "budget", "UADMIN")
    first, _ = await ask(app, "How do refunds work?", "e1")
    assert first.meta is not None
    reply = RecordingReply()
    again = await app.engine.escalate(first.meta.call_id, "U1", reply)
    assert again.meta is not None and again.meta.tier == "budget"
    assert reply.final is not None and "pinned" in reply.final


async def test_settings_choose_who_may_force_and_how_far(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    admins_only = await make_app(sqlite_db, routing_strategy="keyword", tier_force_by="admins")
    outcome, reply = await ask(admins_only, "!premium hi there", "e1")
    assert outcome.meta is not None and outcome.meta.tier != "premium"
    assert reply.final is not None and "admin" in reply.final
    capped = await make_app(sqlite_db, routing_strategy="keyword", tier_force_max="balanced")
    outcome, reply = await ask(capped, "!premium hi there", "e2")
    assert outcome.meta is not None and outcome.meta.tier == "balanced"
    assert reply.final is not None and "balanced" in reply.final
    loose = await make_app(sqlite_db, routing_strategy="keyword", tier_force_above_channel=True)
    await loose.ops.set_channel_tier("slack", "T1", "C1", "budget", "UADMIN")
    outcome, _ = await ask(loose, "!premium hi there", "e3")
    assert outcome.meta is not None and outcome.meta.tier == "premium"
