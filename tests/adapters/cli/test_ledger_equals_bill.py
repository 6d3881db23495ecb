"""The ledger is the provider's invoice: every request the provider billed is one row, whatever
made it. A run with `run`'s start-up check, `doctor`, answers with retries and a fallback, a
judged sample, a shadow comparison and an embedding request: `switchboard report` adds up, to
the nano-dollar, to what the stand-in provider charged (the simulator reports a cost for each
request it bills, like Eden AI, and none for a refused one)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.checks import doctor, startup_checks
from adapters.cli.main import main
from adapters.llm.simulator import Fault, LLMSimulator
from bot.llm.pricing import to_nano
from routing.config import load_routing
from storage.tables import utcnow
from tests.adapters.cli.environment import only_env
from tests.conftest import Database, MakeApp
from tests.fakes import RecordingReply, incoming

JUDGE = "anthropic/claude-haiku-4-5"


async def test_report_adds_up_to_what_the_provider_charged(
    sqlite_db: Database,
    make_app: MakeApp,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    budget = load_routing().tiers["budget"]
    async with LLMSimulator(seed=3, speed=0) as provider:
        app = await make_app(
            sqlite_db, llm_base_url=provider.base_url, routing_strategy="tiered",
            llm_max_retries=1, judge_model=JUDGE, judge_sample_rate=1.0, shadow_sample_rate=1.0,
        )  # fmt: skip
        await startup_checks(app.settings, provider.base_url, app.calls)  # as `run` starts
        findings = await doctor(app.settings, provider.base_url)
        assert [f.ok for f in findings if f.part == "LLM"] == [True]
        # The answer's first model is rate limited once (a retry), then refuses the request
        # (a fallback to the next model of the tier); neither refusal is billed.
        provider.inject(Fault("rate_limit", model=budget[0], retry_after_s=0))
        provider.inject(Fault("bad_model", model=budget[0]))
        first = await app.engine.handle(incoming("!budget where is my invoice?", "e1"),
                                        RecordingReply())  # fmt: skip
        second = await app.engine.handle(incoming("!premium explain key rotation", "e2"),
                                         RecordingReply())  # fmt: skip
        await app.calls.embed(["where is my invoice"], model="openai/text-embedding-3-small")
        assert app.judge is not None and app.shadow is not None
        await app.shadow.drain()
        await app.judge.drain()
    assert (first.status, second.status) == ("answered", "answered")
    assert first.meta is not None and first.meta.model == budget[1]  # the fallback answered
    only_env(monkeypatch, DATABASE_URL=sqlite_db.url)
    out = tmp_path / "ledger.json"
    today = f"{utcnow():%Y-%m-%d}"
    code = await asyncio.to_thread(main, ["report", "--since", today, "-o", str(out),
                                          "--format", "json"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    report = json.loads(out.read_text())
    purposes = [r["purpose"] for r in report]
    for purpose in ("check", "answer", "judge", "shadow", "embedding"):
        assert purpose in purposes, purposes
    assert purposes.count("check") == 2  # `run`'s and `doctor`'s
    assert sum(r["status"] == "error" for r in report) == 2  # the retry and the fallback
    charged = sum(to_nano(Decimal(cost)) for cost in provider.charged)
    assert len(provider.charged) == len(report) - 2  # one bill line per row that billed
    assert sum(r["cost_nano_usd"] for r in report) == charged
    # The checks (and the other overhead) show on their own in `spend` and the digest.
    capsys.readouterr()
    for command in (["spend", "--by", "model"], ["digest", "--date", today]):
        assert await asyncio.to_thread(main, command) == 0
        out = capsys.readouterr().out.replace("\n", " ")
        assert "check" in out.split("By purpose", 1)[1], out
