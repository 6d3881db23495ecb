"""Feeds every answer attempt's outcome into the model health that tiered routing reads."""

from __future__ import annotations

from dataclasses import dataclass

from routing.candidates import DEFAULT_PROVIDER, Candidate
from routing.health import ModelHealth
from routing.strategies import EDEN_ROUTER
from storage.records import CallRecord


@dataclass(frozen=True)
class HealthObserver:
    health: ModelHealth

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        if record.purpose == "answer" and record.model_asked != EDEN_ROUTER:
            # By the routing key the tiers list: `model@provider` off the default provider.
            key = Candidate(record.model_asked, record.provider or DEFAULT_PROVIDER).key
            self.health.record(key, ok=record.status == "ok")
