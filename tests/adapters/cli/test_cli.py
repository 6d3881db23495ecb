"""The `switchboard` command line as a user runs it: a real process against the simulator."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.cli.main import main
from adapters.llm.simulator import LLMSimulator
from storage.database import create_engine


async def test_ask_json_prints_the_answer_and_its_metadata(
    simulator: LLMSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name, value in {"DATA_DIR": str(tmp_path), "LLM_BASE_URL": simulator.base_url,
                        "LLM_API_KEY": "test-key", "ROUTING_STRATEGY": "fixed",
                        "FIXED_MODEL": "openai/gpt-4o-mini"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    # main() runs its own event loop, so it gets a thread; the simulator keeps serving on ours.
    argv = ["ask", "How do I reset my password?", "--json", "--thread", "cli-1"]
    code = await asyncio.wait_for(asyncio.to_thread(main, argv), 60)
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "answered"
    assert data["reply"].startswith("[simulated]")
    assert (data["model"], data["strategy"], data["thread"]) == ("openai/gpt-4o-mini", "fixed",
                                                                 "cli-1")  # fmt: skip
    assert data["input_tokens"] > 0 and data["output_tokens"] > 0
    assert data["cost_usd"] > 0 and data["cost_source"] == "reported"
    assert isinstance(data["latency_ms"], int)
    assert len(simulator.requests) == 1
    assert simulator.requests[0].headers["authorization"] == "Bearer test-key"
    # The turn is on record in the SQLite file under DATA_DIR.
    db = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}")
    try:
        async with db.connect() as conn:
            assert await conn.scalar(sa.text("SELECT count(*) FROM calls")) == 1
    finally:
        await db.dispose()


def test_db_upgrade_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "upgraded" in capsys.readouterr().out
    assert (tmp_path / "switchboard.db").exists()


def test_bad_setting_exits_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLM_TOTAL_TIMEOUT_S", "-1")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "LLM_TOTAL_TIMEOUT_S" in err and "Traceback" not in err
