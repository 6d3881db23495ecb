"""Live Prometheus metrics: a `CallObserver` that counts every call attempt (the HTTP endpoint
that serves them is `adapters.web.metrics`).

Each `Metrics` has its own `CollectorRegistry` (never the global one), so several apps can live
in one process (tests). Budget gauges are read from the ledger when `/metrics` is scraped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from bot.spend.policy import BudgetPolicy, spent, window
from storage.ledger import Ledger
from storage.records import CallRecord
from storage.tables import utcnow

log = logging.getLogger(__name__)

NANO = 1e9
CALL_LABELS = ("platform", "strategy", "tier", "model", "status", "purpose")
TIME_LABELS = ("platform", "strategy", "tier", "model")
SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
DECISION_SECONDS = (1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2, 0.1)


class Metrics:
    def __init__(
        self, ledger: Ledger, budgets: BudgetPolicy, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._ledger, self._budgets, self._clock = ledger, budgets, clock
        self.registry = CollectorRegistry()
        r = self.registry
        self.calls = Counter("switchboard_llm_calls", "LLM call attempts", CALL_LABELS, registry=r)
        self.cost = Counter(
            "switchboard_llm_cost_usd", "Known LLM spend (USD)", CALL_LABELS, registry=r
        )
        self.unpriced = Counter(
            "switchboard_llm_unpriced_calls",
            "Calls whose cost is unknown (not in the cost counter)",
            ("model",),
            registry=r,
        )
        self.latency = Histogram(
            "switchboard_llm_latency_seconds",
            "Call latency",
            TIME_LABELS,
            buckets=SECONDS,
            registry=r,
        )
        self.ttft = Histogram(
            "switchboard_llm_time_to_first_token_seconds",
            "Time to the first streamed token",
            TIME_LABELS,
            buckets=SECONDS,
            registry=r,
        )
        self.decision = Histogram(
            "switchboard_routing_decision_seconds",
            "Time the routing strategy took to pick a model",
            ("strategy",),
            buckets=DECISION_SECONDS,
            registry=r,
        )
        self.errors = Counter(
            "switchboard_provider_errors",
            "Failed provider calls by kind",
            ("kind", "model"),
            registry=r,
        )
        self.budget_spent = Gauge(
            "switchboard_budget_spent_usd", "Spend in the budget period", ("budget",), registry=r
        )
        self.budget_limit = Gauge(
            "switchboard_budget_limit_usd", "The budget's limit", ("budget",), registry=r
        )
        self.budget_used = Gauge(
            "switchboard_budget_used_ratio", "Spent / limit (1 = spent)", ("budget",), registry=r
        )

    async def on_call(self, call_id: int, record: CallRecord) -> None:
        model = record.model_served or record.model_asked
        tier = record.tier or ""
        labels = (record.platform, record.strategy, tier, model, record.status, record.purpose)
        self.calls.labels(*labels).inc()
        if record.cost_nano_usd is None:
            self.unpriced.labels(model).inc()
        else:
            self.cost.labels(*labels).inc(record.cost_nano_usd / NANO)
        timing = (record.platform, record.strategy, tier, model)
        if record.latency_ms is not None:
            self.latency.labels(*timing).observe(record.latency_ms / 1000)
        if record.ttft_ms is not None:
            self.ttft.labels(*timing).observe(record.ttft_ms / 1000)
        if record.purpose == "answer" and record.attempt == 1 and record.decision_us is not None:
            self.decision.labels(record.strategy).observe(record.decision_us / 1e6)
        if record.error_kind:
            self.errors.labels(record.error_kind, record.model_asked).inc()

    async def refresh_budgets(self) -> None:
        """Deployment-wide budgets: spend in the current period against the limit."""
        now = self._clock()
        policy = self._budgets
        for budget in policy.budgets("", "", "", ""):
            if not budget.key.startswith("deployment:"):
                continue
            name = "daily" if budget.period == "day" else "monthly"
            used = await spent(self._ledger, budget, window(budget.period, now, policy.zone))
            self.budget_spent.labels(name).set(used / NANO)
            self.budget_limit.labels(name).set(budget.limit_nano_usd / NANO)
            ratio = used / budget.limit_nano_usd if budget.limit_nano_usd else 1.0
            self.budget_used.labels(name).set(ratio)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
