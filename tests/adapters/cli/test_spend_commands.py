"""`switchboard digest`, `spend` and `report` read the database DATABASE_URL names."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.cli.main import main
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread


@pytest.fixture
def ledger(sqlite_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> datetime:
    yesterday = datetime.now(UTC).replace(hour=12, minute=0) - timedelta(days=1)

    async def seed() -> None:
        engine = sqlite_db.engine()
        try:
            thread = await make_thread(engine, "help", "T9")
            await insert_calls(
                engine,
                [
                    call_values(thread, yesterday, channel="help", cost_nano_usd=1_234_567),
                    call_values(
                        thread,
                        yesterday,
                        channel="help",
                        cost_nano_usd=None,
                        cost_source="unpriced",
                        model_asked="acme/unknown",
                    ),
                ],
            )
        finally:
            await engine.dispose()

    asyncio.run(seed())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sqlite_db.url)
    monkeypatch.setenv("TIMEZONE", "UTC")
    return yesterday


def test_digest_spend_and_report_print_the_ledger(
    ledger: datetime, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["digest"]) == 0
    out = capsys.readouterr().out
    assert f"Switchboard spend for {ledger:%a %d %b %Y}" in out
    assert "$0.001235" in out and "1 unpriced" in out and "help/T9" in out
    assert main(["spend", "--since", f"{ledger:%Y-%m-%d}", "--by", "model"]) == 0
    out = capsys.readouterr().out
    assert "acme/unknown" in out and "total $0.001235 over 2 calls" in out
    assert main(["report", "--since", f"{ledger:%Y-%m-%d}", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["cost_nano_usd"] for r in rows] == [1_234_567, None]
    target = tmp_path / "ledger.csv"
    assert main(["report", "--since", f"{ledger:%Y-%m-%d}", "-o", str(target)]) == 0
    with target.open() as f:
        parsed = list(csv.DictReader(f))
    assert [r["cost_usd"] for r in parsed] == ["0.001234567", ""]
