"""The one metered call path: every request a provider receives is one priced ledger row,
whatever asked for it (judge and shadow completions, credential checks, embeddings)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import BudgetExceeded
from bot.llm.calls import Calls
from bot.llm.errors import AuthenticationFailed, ProviderUnavailable
from bot.llm.recorder import CallContext
from bot.llm.types import Asker, ChatMessage, ChatRequest
from storage.tables import calls_t
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted
from tests.rows import rows

A = "openai/gpt-4o-mini"
REQUEST = ChatRequest(A, (ChatMessage("user", "My invoice is wrong, what now?"),))
ASKER = Asker("console", "w1", "c1", "u1", "t1")
EMBEDDER = "openai/text-embedding-3-small"  # $0.02 per million input tokens


def dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def calls_of(make_app: MakeApp, db: Database, **settings: object) -> tuple[Calls, object]:
    app = await make_app(db, llm_max_retries=1, **settings)
    return app.calls, app.stores.db


async def test_complete_records_every_try_without_streaming(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(
        Scripted(error=ProviderUnavailable(detail="503"), model=A), Scripted(text="Score: 8")
    )
    calls, db = await calls_of(make_app, sqlite_db)
    done = await calls.complete((A,), REQUEST, CallContext(ASKER, purpose="judge"))
    assert [r.attempt.number for r in done.recorded] == [1, 2] and done.error is None
    assert done.result is not None and done.result.text == "Score: 8"
    provider.enqueue(Scripted(error=AuthenticationFailed(detail="401")))
    failed = await calls.complete((A,), REQUEST, CallContext(ASKER, purpose="judge"))
    assert failed.result is None and isinstance(failed.error, AuthenticationFailed)
    assert len(failed.recorded) == 1
    stored = await rows(db, calls_t)  # type: ignore[arg-type]
    assert [(r.purpose, r.status, r.provider, r.attempt) for r in stored] == [
        ("judge", "error", "default", 1), ("judge", "ok", "default", 2),
        ("judge", "error", "default", 1),
    ]  # fmt: skip
    assert [r.call.call_id for r in (*done.recorded, *failed.recorded)] == [r.id for r in stored]


async def test_an_embedding_request_is_one_row_priced_on_its_input_tokens(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(model=EMBEDDER, usage=(50_000, 0)))
    calls, db = await calls_of(make_app, sqlite_db)
    texts = ["How do I reset my password?", "Refunds take five days.", "reset password"]
    found = await calls.embed(texts, model=EMBEDDER, asker=ASKER)
    assert len(found.vectors) == 3 and found.vectors[0] != found.vectors[1]
    # In the order of the texts: the third shares words with the first, none with the second.
    first, second, third = found.vectors
    assert dot(third, first) > 0.5 > dot(third, second)
    [row] = await rows(db, calls_t)  # type: ignore[arg-type]
    assert (row.purpose, row.model_asked, row.channel, row.user) == (
        "embedding", EMBEDDER, "c1", "u1")  # fmt: skip
    assert (row.input_tokens, row.output_tokens, row.cost_source) == (50_000, 0, "priced")
    assert row.cost_nano_usd == found.cost_nano_usd == 1_000_000  # 50k x $0.02 / 1M = $0.001
    assert row.id == found.call_id and provider.embeddings[0].texts == tuple(texts)


async def test_an_embedding_with_an_unknown_price_is_flagged_never_zero(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    calls, db = await calls_of(make_app, sqlite_db)
    found = await calls.embed(["hello"], model="acme/embedder-1")
    [row] = await rows(db, calls_t)  # type: ignore[arg-type]
    assert found.cost_nano_usd is None
    assert (row.cost_source, row.cost_nano_usd, row.purpose) == ("unpriced", None, "embedding")


async def test_a_provider_reported_embedding_cost_comes_first(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(model=EMBEDDER, cost_usd=Decimal("0.000000123")))
    calls, db = await calls_of(make_app, sqlite_db)
    found = await calls.embed(["hello"], model=EMBEDDER)
    [row] = await rows(db, calls_t)  # type: ignore[arg-type]
    assert (found.cost_nano_usd, row.cost_source) == (123, "reported")


async def test_a_failed_embedding_is_on_the_ledger_and_raises_the_providers_error(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(model=EMBEDDER, error=ProviderUnavailable(detail="503"), repeat=2))
    calls, db = await calls_of(make_app, sqlite_db)
    with pytest.raises(ProviderUnavailable):
        await calls.embed(["hello"], model=EMBEDDER)
    stored = await rows(db, calls_t)  # type: ignore[arg-type]
    assert [(r.status, r.cost_source, r.attempt) for r in stored] == [
        ("error", "unbilled", 1), ("error", "unbilled", 2)]  # fmt: skip


async def test_a_check_is_one_request_on_the_ledger_never_retried_nor_refused_by_a_budget(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    calls, db = await calls_of(make_app, sqlite_db, budget_daily_usd=0.000000001,
                               budget_action="block")  # fmt: skip
    await calls.embed(["hello"], model=EMBEDDER, asker=ASKER)  # spends the budget
    with pytest.raises(BudgetExceeded):  # now spent for what the users ask...
        await calls.embed(["hello"], model=EMBEDDER, asker=ASKER)
    done = await calls.check(A)  # ... but an operator can still check the key
    assert done.result is not None and done.error is None
    provider.enqueue(Scripted(error=ProviderUnavailable(detail="503"), repeat=5))
    broken = await calls.check(A)
    assert isinstance(broken.error, ProviderUnavailable)
    stored = await rows(db, calls_t)  # type: ignore[arg-type]
    assert [(r.purpose, r.status, r.thread_id, r.message_id) for r in stored[1:]] == [
        ("check", "ok", None, None), ("check", "error", None, None)]  # fmt: skip
    assert provider.requests[0].max_tokens == 1 and len(provider.requests) == 2
