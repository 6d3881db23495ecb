"""stdout is the command's own output; operator notices and logs go to stderr. `ask --json`
that fails after a run of failures (an error-rate spike) and over its budget (a budget alert)
still prints exactly one JSON document on stdout, and the notices on stderr."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.cli.main import main
from adapters.llm.simulator import Fault, LLMSimulator
from storage.database import create_engine
from tests.adapters.cli.environment import only_env
from tests.conftest import migrated_copy
from tests.rows import call_values, insert_calls, make_thread


async def failed_calls(path: Path, count: int) -> None:
    """`count` failed calls in the last minutes, as after a provider outage, and four answered
    ones ($0.000004 of spend), in `path` (a migrated database)."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        thread = await make_thread(engine)
        now = datetime.now(UTC) - timedelta(minutes=1)
        await insert_calls(engine, [
            call_values(thread, now, status="error", error_kind="unavailable", cost_nano_usd=0,
                        cost_source="unbilled")
            for _ in range(count)
        ])  # fmt: skip
        await insert_calls(engine, [call_values(thread, now) for _ in range(4)])
    finally:
        await engine.dispose()


async def test_ask_json_stays_json_when_alerts_fire(
    simulator: LLMSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sqlite_template: Path,
) -> None:
    await failed_calls(migrated_copy(sqlite_template, tmp_path / "var" / "switchboard.db"), 24)
    simulator.inject(Fault("server_error", times=10))  # this question fails too
    # The CLI's own logging set-up (pytest's capture handler would otherwise take the logs).
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    only_env(
        monkeypatch,
        LLM_API_KEY="test-key",
        LLM_BASE_URL=simulator.base_url,
        ROUTING_STRATEGY="fixed",
        FIXED_MODEL="openai/gpt-4o-mini",
        BUDGET_DAILY_USD="0.000001",  # the seeded calls already cross every threshold
    )
    code = await asyncio.wait_for(asyncio.to_thread(main, ["ask", "Hi?", "--json"]), 60)
    out, err = capsys.readouterr()
    assert code == 1, err
    answer = json.loads(out)  # the whole of stdout is one JSON document
    assert answer["status"] == "failed" and answer["error"].startswith("The LLM provider")
    assert "Error-rate spike" in err and "Budget alert" in err
    assert "Error-rate" not in out and "Budget" not in out
