"""Feeds every answer attempt's outcome into the model health that tiered routing reads."""

from __future__ import annotations

from dataclasses import dataclass

from routing.health import ModelHealth
from routing.strategies import EDEN_ROUTER
from storage.records import CallRecord


@dataclass(frozen=True)
class HealthObserver:
    health: ModelHealth

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        if record.purpose == "answer" and record.model_asked != EDEN_ROUTER:
            self.health.record(record.model_asked, ok=record.status == "ok")
