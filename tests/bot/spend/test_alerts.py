"""Error-rate spikes alert once per hour, from the ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.spend.alerts import ErrorSpike, SpendAlerts
from bot.spend.meter import SpendMeter
from bot.spend.policy import BudgetPolicy
from storage.alert_marks import AlertMarks
from storage.claims import Claims
from storage.ledger import Ledger
from storage.records import CallRecord
from tests.conftest import Database
from tests.fakes import RecordingNotifier
from tests.rows import call_values, insert_calls, make_thread


async def test_error_spike_alerts_once_and_ignores_a_few_failures(sqlite_db: Database) -> None:
    engine = sqlite_db.engine()
    now = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)
    notifier = RecordingNotifier()
    ledger, policy = Ledger(engine), BudgetPolicy()
    alerts = SpendAlerts(ledger, Claims(engine), policy, [notifier], spike=ErrorSpike(),
                         meter=SpendMeter(ledger, policy), marks=AlertMarks(engine))  # fmt: skip
    try:
        thread = await make_thread(engine)
        record = CallRecord(
            thread[0],
            thread[1],
            "console",
            "w1",
            "c1",
            "u1",
            "fixed",
            "m/x",
            "unbilled",
            "error",
            1,
            created_at=now,
        )
        ok = [call_values(thread, now - timedelta(minutes=m)) for m in range(16)]
        await insert_calls(engine, ok + [call_values(thread, now, status="error")] * 3)
        await alerts.on_call(1, record)
        assert notifier.notices == []  # 3 of 19 failed, and too few calls
        await insert_calls(engine, [call_values(thread, now, status="error")] * 5)
        await alerts.on_call(2, record)
        await alerts.on_call(3, record)
        assert [n.title for n in notifier.notices] == ["Error-rate spike"]
        assert "8 of 24 LLM calls failed in the last 15 minutes" in notifier.notices[0].text
    finally:
        await engine.dispose()
