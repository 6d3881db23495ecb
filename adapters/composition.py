"""The composition root: the one place that builds every long-lived object and wires them.

`switchboard run`, every CLI command, the demo, the benchmarks and the tests build through
here. Everything is passed in explicitly, in dependency order; nothing is patched afterwards:

    settings -> database -> stores -> provider -> dispatcher -> recorder (+ call observers)
             -> answerer (+ judge) -> engine -> operations -> platform adapters
"""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.conversation.answer import Answerer
from bot.conversation.engine import Engine, EngineConfig
from bot.conversation.operations import Operations
from bot.conversation.policy import TierPolicy
from bot.errors import ConfigError
from bot.experiments.assignment import ExperimentPicker
from bot.experiments.config import Experiment, parse_experiments
from bot.experiments.judge import Judge
from bot.llm.dispatch import Dispatcher, RetryPolicy
from bot.llm.health import HealthObserver
from bot.llm.pricing import Pricer
from bot.llm.provider import Provider
from bot.llm.recorder import CallRecorder
from bot.metrics import Metrics
from bot.notices import LogNotifier
from bot.ports import AnswerObserver, Notifier
from bot.redaction import LogRedaction, Redactor
from bot.settings import Settings
from bot.spend.alerts import SpendAlerts
from bot.spend.budget import BudgetGuard, BudgetPolicy
from bot.spend.scheduler import DigestJob
from routing.analyzer.scorer import QueryAnalyzer
from routing.config import RoutingConfig, RoutingFileError, load_routing
from routing.health import ModelHealth
from routing.strategies import (
    AnalyzerJudge,
    EdenStrategy,
    TieredEdenStrategy,
    TieredStrategy,
    keyword_judge,
)
from routing.strategy import FixedStrategy, Strategy
from storage.claims import Claims
from storage.conversations import Conversations
from storage.database import create_engine, upgrade
from storage.experiments import ExperimentData
from storage.ledger import Ledger
from storage.signals import Signals
from storage.tables import utcnow

if TYPE_CHECKING:
    from bot.spend.scheduler import DigestScheduler


@dataclass(frozen=True)
class Stores:
    """The storage objects, each built once over one database engine."""

    db: AsyncEngine
    conversations: Conversations
    ledger: Ledger
    claims: Claims
    signals: Signals
    experiments: ExperimentData

    @classmethod
    def over(cls, db: AsyncEngine) -> Stores:
        return cls(db, Conversations(db), Ledger(db), Claims(db), Signals(db), ExperimentData(db))


@dataclass(frozen=True)
class Routing:
    """The routing file, its experiments, and the strategies built from it."""

    config: RoutingConfig
    strategies: Mapping[str, Strategy]
    experiments: tuple[Experiment, ...]
    health: ModelHealth


@dataclass
class Switchboard:
    """The wired core. Adapters are handed the parts they need (`engine`, `ops`), never this."""

    settings: Settings
    stores: Stores
    routing: Routing
    engine: Engine
    ops: Operations
    digest: DigestJob
    metrics: Metrics
    judge: Judge | None
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def close(self) -> None:
        await self.resources.aclose()


def load_routing_file(settings: Settings) -> RoutingConfig:
    try:
        return load_routing(settings.routing_file)
    except RoutingFileError as error:
        raise ConfigError(str(error)) from None


@functools.cache
def shipped_analyzer() -> QueryAnalyzer:
    """The analyzer model bundled with the package: immutable, so loaded once per process."""
    return QueryAnalyzer.load()


def build_routing(settings: Settings) -> Routing:
    config = load_routing_file(settings)
    health = ModelHealth()
    judge = AnalyzerJudge(shipped_analyzer(), config)
    strategies: dict[str, Strategy] = {
        "fixed": FixedStrategy(settings.fixed_model),
        "tiered": TieredStrategy(judge, config, health),
        "tiered-edenai": TieredEdenStrategy(judge, config),
        "edenai": EdenStrategy(config.edenai_candidates),
        "keyword": TieredStrategy(keyword_judge, config, health, name="keyword"),
    }
    if settings.routing_strategy not in strategies:
        known = ", ".join(sorted(strategies))
        raise ConfigError(
            f"ROUTING_STRATEGY: unknown strategy {settings.routing_strategy!r} (known: {known})"
        )
    experiments = parse_experiments(config.experiments, tuple(strategies))
    return Routing(config, strategies, experiments, health)


def baseline_model(settings: Settings, routing: RoutingConfig) -> str:
    """Savings are measured against BASELINE_MODEL, else the premium tier's first model."""
    return settings.baseline_model or routing.premium_model


async def open_database(settings: Settings, *, migrate: bool = True) -> AsyncEngine:
    db = create_engine(settings.resolved_database_url)
    if migrate:
        await upgrade(db)
    return db


@asynccontextmanager
async def stores_for(settings: Settings) -> AsyncIterator[Stores]:
    """The storage objects over DATABASE_URL, for commands that only read or write the ledger."""
    db = await open_database(settings)
    try:
        yield Stores.over(db)
    finally:
        await db.dispose()


def http_provider(settings: Settings, http: httpx.AsyncClient, base_url: str) -> Provider:
    """The OpenAI-compatible HTTP client for `base_url` (the configured API or the simulator)."""
    from adapters.llm.openai_client import ProviderClient, Timeouts

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    timeouts = Timeouts(
        settings.llm_connect_timeout_s,
        settings.llm_first_token_timeout_s,
        settings.llm_total_timeout_s,
    )
    return ProviderClient(http, base_url, key or "simulated", timeouts)


async def build(
    settings: Settings,
    *,
    db: AsyncEngine | None = None,
    provider: Provider | None = None,
    llm_base_url: str | None = None,
    notifiers: Sequence[Notifier] | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> Switchboard:
    """Everything the bot needs, connected; close it with `await switchboard.close()`.

    `db` replaces the engine DATABASE_URL names (tests hand in one bound to their schema);
    `provider` replaces the HTTP client (tests hand in a fake); `llm_base_url` points the HTTP
    client elsewhere (the simulator); `notifiers` replace the ones the settings configure.
    The switchboard owns and closes all of them.
    """
    resources = AsyncExitStack()
    try:
        return await _build(
            settings, resources, db, provider, llm_base_url, notifiers, migrate, clock
        )
    except BaseException:
        await resources.aclose()
        raise


async def _build(
    settings: Settings,
    resources: AsyncExitStack,
    db: AsyncEngine | None,
    provider: Provider | None,
    llm_base_url: str | None,
    notifiers: Sequence[Notifier] | None,
    migrate: bool,
    clock: Callable[[], datetime],
) -> Switchboard:
    routing = build_routing(settings)  # a bad routing file fails before anything is opened
    redact = Redactor.from_settings(settings)
    resources.callback(LogRedaction(redact).install().uninstall)
    if db is None:
        db = await open_database(settings, migrate=migrate)
    elif migrate:
        await upgrade(db)
    resources.push_async_callback(db.dispose)
    stores = Stores.over(db)
    resources.push_async_callback(stores.conversations.close)  # spooled writes, then dispose
    if provider is None:
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
        resources.push_async_callback(http.aclose)
        provider = http_provider(settings, http, llm_base_url or settings.llm_base_url)
    if notifiers is None:
        notifiers = await platform_notifiers(settings, resources)
    notifiers = tuple(notifiers) or (LogNotifier(),)
    zone = ZoneInfo(settings.timezone)
    budget = BudgetPolicy.from_settings(settings)
    baseline = baseline_model(settings, routing.config)
    dispatcher = Dispatcher(
        provider,
        RetryPolicy(
            settings.llm_max_retries, settings.llm_backoff_base_s, settings.llm_backoff_max_s
        ),
        random.Random(),
    )
    metrics = Metrics(stores.ledger, budget, clock)
    alerts = SpendAlerts(stores.ledger, stores.claims, budget, notifiers, clock=clock)
    recorder = CallRecorder(
        stores.conversations,
        Pricer(),
        baseline_model=baseline,
        redact=redact,
        observers=(HealthObserver(routing.health), alerts, metrics),
        clock=clock,
    )
    judge = None
    answer_observers: list[AnswerObserver] = []
    if settings.judge_model:
        judge = Judge(
            dispatcher,
            recorder,
            stores.experiments,
            settings.judge_model,
            settings.judge_sample_rate,
        )
        resources.push_async_callback(judge.close)
        answer_observers.append(judge)
    answerer = Answerer(
        dispatcher,
        recorder,
        stores.conversations,
        max_output_tokens=settings.llm_max_output_tokens,
        observers=answer_observers,
        lease_s=settings.answer_lease_s,
        clock=clock,
    )
    engine = Engine(
        stores.conversations,
        ExperimentPicker(routing.experiments, routing.strategies, settings.routing_strategy, clock),
        answerer,
        EngineConfig(
            system_prompt=settings.system_prompt,
            history_token_budget=settings.history_token_budget,
            history_max_messages=settings.history_max_messages,
            max_question_tokens=settings.max_question_tokens,
            tier_policy=TierPolicy(
                settings.tier_force_by, settings.tier_force_max, settings.tier_force_above_channel
            ),
            lease_s=settings.answer_lease_s,
            recovery_max_age_s=settings.recovery_max_age_s,
            db_wait_s=settings.database_wait_s,
            recovery_interval_s=settings.recovery_interval_s,
        ),
        guard=BudgetGuard(stores.ledger, budget, clock),
        clock=clock,
    )
    digest = digest_job(settings, stores, routing, notifiers, clock=clock)
    ops = Operations(stores.conversations, stores.signals, stores.ledger, zone, clock)
    return Switchboard(settings, stores, routing, engine, ops, digest, metrics, judge, resources)


def digest_job(
    settings: Settings,
    stores: Stores,
    routing: Routing,
    notifiers: Sequence[Notifier],
    *,
    clock: Callable[[], datetime] = utcnow,
) -> DigestJob:
    lines = None
    if routing.experiments:

        async def lines(now: datetime) -> list[str]:
            from bot.experiments.report import experiment_digest_lines  # the statistics stack

            return await experiment_digest_lines(stores.experiments, routing.experiments, now)

    return DigestJob(
        stores.ledger,
        stores.claims,
        notifiers,
        zone=ZoneInfo(settings.timezone),
        digest_time=settings.digest_time,
        baseline_model=baseline_model(settings, routing.config),
        monthly_budget_nano_usd=BudgetPolicy.from_settings(settings).monthly_nano_usd,
        clock=clock,
        experiment_lines=lines,
    )


async def platform_notifiers(settings: Settings, resources: AsyncExitStack) -> list[Notifier]:
    """The operators' digest and alert channels the settings name (SDKs imported only then)."""
    found: list[Notifier] = []
    if settings.slack_bot_token and settings.digest_slack_channel:
        from adapters.slack.config import slack_client
        from adapters.slack.notifier import SlackNotifier

        found.append(SlackNotifier(slack_client(settings), settings.digest_slack_channel))
    if settings.discord_bot_token and settings.digest_discord_channel_id:
        from adapters.discord.notifier import DiscordNotifier, rest_client

        client = rest_client()
        resources.push_async_callback(client.close)
        found.append(
            DiscordNotifier(
                client,
                settings.digest_discord_channel_id,
                token=settings.discord_bot_token.get_secret_value(),
            )
        )
    return found


Service = Callable[[], Coroutine[Any, Any, None]]


def services(switchboard: Switchboard) -> dict[str, Service]:
    """The long-running parts of `switchboard run`: each configured platform adapter, the
    digest scheduler and the metrics endpoint. Platform SDKs are imported only when used."""
    sb, settings = switchboard, switchboard.settings
    found: dict[str, Service] = {}
    from adapters.slack.config import SlackConfig

    slack = SlackConfig.from_settings(settings)
    if slack is not None:
        from adapters.slack.app import SlackAdapter
        from adapters.slack.service import serve as serve_slack

        found["slack"] = partial(serve_slack, SlackAdapter(sb.engine, sb.ops, slack))
    from adapters.discord.config import DiscordConfig

    discord = DiscordConfig.from_settings(settings)
    if discord is not None:
        from adapters.discord.client import SwitchboardBot
        from adapters.discord.service import serve as serve_discord

        bot = SwitchboardBot(engine=sb.engine, ops=sb.ops, config=discord)
        found["discord"] = partial(serve_discord, bot)
    found["digest"] = digest_scheduler(sb).serve
    if settings.metrics_port is not None:
        from adapters.web.metrics import serve as serve_metrics

        found["metrics"] = partial(serve_metrics, sb.metrics, sb.stores.db, settings.metrics_port)
    return found


def digest_scheduler(switchboard: Switchboard) -> DigestScheduler:
    from bot.spend.scheduler import DigestScheduler, digest_trigger
    from storage.leader import LeaderLock

    job = switchboard.digest
    trigger = digest_trigger(switchboard.settings.digest_time, job.zone)
    return DigestScheduler(job, trigger, LeaderLock(switchboard.stores.db))
