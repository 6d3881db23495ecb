"""The composition root: builds every long-lived resource once and wires them together."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.llm.openai_client import ProviderClient, Timeouts
from bot.conversation.engine import Engine, EngineConfig
from bot.conversation.operations import Operations
from bot.conversation.ports import HealthObserver, Notifier
from bot.errors import ConfigError
from bot.experiments.config import Experiment, ExperimentPicker, parse_experiments
from bot.experiments.judge import Judge
from bot.llm.dispatch import Dispatcher, RetryPolicy
from bot.llm.pricing import Pricer
from bot.metrics import Metrics
from bot.settings import Settings
from bot.spend.alerts import SpendAlerts
from bot.spend.budget import BudgetGuard, BudgetPolicy
from routing.analyzer.scorer import QueryAnalyzer
from routing.config import RoutingConfig, load_routing
from routing.health import ModelHealth
from routing.strategies import (
    AnalyzerJudge,
    EdenStrategy,
    TieredEdenStrategy,
    TieredStrategy,
    keyword_judge,
)
from routing.strategy import FixedStrategy, Strategy
from storage.conversations import Conversations
from storage.database import create_engine, upgrade
from storage.tables import utcnow

if TYPE_CHECKING:
    from bot.spend.scheduler import DigestScheduler

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: AsyncEngine
    http: httpx.AsyncClient
    engine: Engine
    ops: Operations
    strategies: dict[str, Strategy]
    routing: RoutingConfig
    # Where digests and alerts go; adapters add theirs when they start.
    notifiers: list[Notifier] = field(default_factory=list)
    exit_stack: AsyncExitStack = field(default_factory=AsyncExitStack)
    experiments: tuple[Experiment, ...] = ()
    # Savings are measured against this model (BASELINE_MODEL, else the premium tier's first).
    baseline_model: str = ""
    budget: BudgetPolicy = field(default_factory=BudgetPolicy)
    metrics: Metrics | None = None
    judge: Judge | None = None

    async def close(self) -> None:
        await self.exit_stack.aclose()
        await self.http.aclose()
        self.engine.conversations.close()
        await self.db.dispose()


def build_strategies(
    settings: Settings, routing: RoutingConfig, health: ModelHealth
) -> dict[str, Strategy]:
    judge = AnalyzerJudge(QueryAnalyzer.load(), routing)
    return {
        "fixed": FixedStrategy(settings.fixed_model),
        "tiered": TieredStrategy(judge, routing, health),
        "tiered-edenai": TieredEdenStrategy(judge, routing),
        "edenai": EdenStrategy(routing.edenai_candidates),
        "keyword": TieredStrategy(keyword_judge, routing, health, name="keyword"),
    }


async def build_app(
    settings: Settings,
    *,
    llm_base_url: str | None = None,
    db: AsyncEngine | None = None,
    migrate: bool = True,
) -> App:
    """Everything the bot needs, connected.

    `llm_base_url` overrides the setting (the simulator); `db` is an engine to use instead of
    one made from DATABASE_URL (tests hand in one bound to their own schema). The app owns and
    disposes it either way.
    """
    db = db or create_engine(settings.resolved_database_url)
    if migrate:
        await upgrade(db)
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "simulated"
    client = ProviderClient(
        http,
        llm_base_url or settings.llm_base_url,
        api_key,
        Timeouts(
            settings.llm_connect_timeout_s,
            settings.llm_first_token_timeout_s,
            settings.llm_total_timeout_s,
        ),
    )
    dispatcher = Dispatcher(
        client,
        RetryPolicy(
            settings.llm_max_retries, settings.llm_backoff_base_s, settings.llm_backoff_max_s
        ),
        random.Random(),
    )
    routing = load_routing(settings.routing_file)
    health = ModelHealth()
    strategies = build_strategies(settings, routing, health)
    if settings.routing_strategy not in strategies:
        known = ", ".join(sorted(strategies))
        raise ConfigError(f"ROUTING_STRATEGY: unknown strategy {settings.routing_strategy!r} "
                          f"(known: {known})")  # fmt: skip
    experiments = parse_experiments(routing.experiments, tuple(strategies))
    conversations = Conversations(db)
    budget_policy = BudgetPolicy.from_settings(settings)
    baseline_model = settings.baseline_model or routing.premium_model
    notifiers: list[Notifier] = []
    metrics = Metrics(db, budget_policy)
    pricer = Pricer()
    engine = Engine(
        conversations,
        dispatcher,
        ExperimentPicker(db, experiments, strategies, settings.routing_strategy),
        pricer,
        EngineConfig(
            system_prompt=settings.system_prompt,
            history_token_budget=settings.history_token_budget,
            history_max_messages=settings.history_max_messages,
            max_question_tokens=settings.max_question_tokens,
            max_output_tokens=settings.llm_max_output_tokens,
            baseline_model=baseline_model,
        ),
        guard=BudgetGuard(db, budget_policy),
        observers=[HealthObserver(health), SpendAlerts(db, budget_policy, notifiers), metrics],
    )
    judge = None
    if settings.judge_model:
        judge = Judge(db, dispatcher, pricer, engine.record_attempt, settings.judge_model,
                      settings.judge_sample_rate)  # fmt: skip
        engine.add_observer(judge)
    ops = Operations(conversations, ZoneInfo(settings.timezone))
    app = App(settings, db, http, engine, ops, strategies, routing, notifiers,
              experiments=experiments, baseline_model=baseline_model, budget=budget_policy,
              metrics=metrics, judge=judge)  # fmt: skip
    if judge is not None:
        app.exit_stack.push_async_callback(judge.close)
    return app


def digest_scheduler(app: App, clock: Callable[[], datetime] = utcnow) -> DigestScheduler:
    """The daily digest job for `switchboard run`, posting to the app's notifiers."""
    from bot.spend.scheduler import DigestJob, DigestScheduler, LeaderLock, digest_trigger

    settings = app.settings
    zone = app.ops.zone
    job = DigestJob(
        app.db,
        app.notifiers,
        zone=zone,
        digest_time=settings.digest_time,
        baseline_model=app.baseline_model,
        monthly_budget_nano_usd=app.budget.monthly_nano_usd,
        clock=clock,
        experiments=app.experiments,
    )
    return DigestScheduler(job, digest_trigger(settings.digest_time, zone), LeaderLock(app.db))
