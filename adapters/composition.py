"""The composition root: the one place that builds every long-lived object and wires them.

`switchboard run`, every CLI command, the demo, the benchmarks and the tests build through
here. Everything is passed in explicitly, in dependency order; nothing is patched afterwards:

    settings -> database -> stores -> providers -> the metered call path (+ call observers)
             -> answerer (+ judge, shadow) -> engine -> operations -> platform adapters
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.llm_setup import http_providers, metered_calls, provider_keys

# Re-exported: the routing half of the root lives apart so `switchboard route` starts fast.
from adapters.routing_setup import Routing as Routing
from adapters.routing_setup import active_routing as active_routing
from adapters.routing_setup import baseline_model as baseline_model
from adapters.routing_setup import build_routing as build_routing
from adapters.routing_setup import load_routing_file as load_routing_file
from adapters.routing_setup import shipped_analyzer as shipped_analyzer
from bot.conversation.answer import Answerer, AnswerObserver
from bot.conversation.engine import Engine, EngineConfig
from bot.conversation.policy import TierPolicy
from bot.errors import ConfigError
from bot.experiments.assignment import ExperimentPicker
from bot.experiments.judge import Judge
from bot.knowledge.config import KnowledgeConfig, channel_collections
from bot.knowledge.grounding import Librarian
from bot.knowledge.retrieval import KnowledgeBase
from bot.learning.labels import LabelWeights, collect
from bot.learning.quality import QualityReport
from bot.learning.shadow import ShadowComparer, ShadowConfig
from bot.learning.versions import DailyTune, RouterVersions
from bot.llm.calls import Calls
from bot.llm.health import HealthObserver
from bot.llm.pricing import Pricer
from bot.llm.provider import Provider
from bot.llm.types import Usage
from bot.metrics import Metrics
from bot.notices import LogNotifier, Notifier
from bot.operations import Operations
from bot.redaction import LogRedaction, Redactor
from bot.settings import Settings
from bot.spend.alerts import SpendAlerts
from bot.spend.budget import BudgetGuard
from bot.spend.meter import SpendMeter
from bot.spend.policy import BudgetPolicy
from bot.spend.scheduler import DigestJob
from routing.active import ScorerSlot
from routing.strategies import AnalyzerJudge, TieredEdenStrategy, TieredStrategy
from routing.strategy import Strategy
from storage.alert_marks import AlertMarks
from storage.claims import Claims
from storage.conversations import Conversations
from storage.database import upgrade
from storage.experiments import ExperimentData
from storage.knowledge import KnowledgeStore
from storage.learning import LearningData
from storage.ledger import Ledger
from storage.signals import Signals
from storage.tables import utcnow

if TYPE_CHECKING:
    from adapters.web.access import Access
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
    learning: LearningData

    @classmethod
    def over(cls, db: AsyncEngine) -> Stores:
        return cls(
            db, Conversations(db), Ledger(db), Claims(db), Signals(db), ExperimentData(db),
            LearningData(db),
        )  # fmt: skip


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
    versions: RouterVersions
    calls: Calls  # the metered call path: every provider request (embeddings too) goes here
    shadow: ShadowComparer | None = None
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def close(self) -> None:
        await self.resources.aclose()


def router_versions(stores: Stores, slot: ScorerSlot | None = None) -> RouterVersions:
    base = shipped_analyzer()
    return RouterVersions(stores.learning, base, slot or ScorerSlot(base))


async def open_database(
    settings: Settings, *, migrate: bool = True, create: bool = True
) -> AsyncEngine:
    """DATABASE_URL's engine; failures to open it become one `ConfigError` line (see
    adapters/database.py); `create=False` never creates a database that is not there."""
    from adapters.database import open_database as open_checked

    return await open_checked(settings, migrate=migrate, create=create)


@asynccontextmanager
async def stores_for(settings: Settings, *, create: bool = True) -> AsyncIterator[Stores]:
    """The storage objects over DATABASE_URL, for commands that only read or write the ledger
    (read-only ones pass `create=False`)."""
    db = await open_database(settings, create=create)
    stores = Stores.over(db)
    try:
        yield stores
    finally:
        await stores.conversations.close()
        await db.dispose()


async def build(
    settings: Settings,
    *,
    db: AsyncEngine | None = None,
    provider: Provider | Mapping[str, Provider] | None = None,
    llm_base_url: str | None = None,
    notifiers: Sequence[Notifier] | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> Switchboard:
    """Everything the bot needs, connected; close it with `await switchboard.close()`.

    `db` replaces the engine DATABASE_URL names (tests hand in one bound to their schema);
    `provider` replaces the HTTP clients (tests hand in a fake, or one per routing-file
    provider name); `llm_base_url` points the default HTTP client elsewhere (the simulator);
    `notifiers` replace the ones the settings configure.
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
    provider: Provider | Mapping[str, Provider] | None,
    llm_base_url: str | None,
    notifiers: Sequence[Notifier] | None,
    migrate: bool,
    clock: Callable[[], datetime],
) -> Switchboard:
    routing = build_routing(settings)  # a bad routing file fails before anything is opened
    redact = Redactor.from_settings(settings, provider_keys(settings, routing.config.catalog))
    resources.callback(LogRedaction(redact).install().uninstall)
    if db is None:
        db = await open_database(settings, migrate=migrate)
    elif migrate:
        await upgrade(db)
    resources.push_async_callback(db.dispose)
    stores = Stores.over(db)
    resources.push_async_callback(stores.conversations.close)  # spooled writes, then dispose
    versions = router_versions(stores, routing.scorer)
    await versions.refresh()  # live traffic scores with the active router version
    if provider is None:
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100))
        resources.push_async_callback(http.aclose)
        base_url = llm_base_url or settings.llm_base_url
        provider = http_providers(settings, routing.config.catalog, http, base_url)
    if notifiers is None:
        notifiers = await platform_notifiers(settings, resources)
    notifiers = tuple(notifiers) or (LogNotifier(),)
    zone = ZoneInfo(settings.timezone)
    budget = BudgetPolicy.from_settings(settings)
    baseline = baseline_model(settings, routing.config)
    metrics = Metrics(stores.ledger, budget, clock)
    pricer = Pricer()
    pricer.price(baseline, Usage(1, 1))  # read the price list now, not inside the first answer
    meter = SpendMeter(stores.ledger, budget, refresh_s=settings.budget_refresh_s, clock=clock)
    resources.push_async_callback(meter.close)
    alerts = SpendAlerts(stores.ledger, stores.claims, budget, notifiers, meter=meter,
                         marks=AlertMarks(db), clock=clock)  # fmt: skip
    guard = BudgetGuard(meter, budget, clock, call_estimate(pricer, settings))
    # Call observers: the meter first, the alerts read it.
    calls = metered_calls(
        settings, routing.config, provider, stores.conversations, pricer,
        baseline_model=baseline, holds=guard, clock=clock, redact=redact,
        observers=(meter, HealthObserver(routing.health), alerts, metrics),
    )  # fmt: skip
    judge = None
    answer_observers: list[AnswerObserver] = []
    shadow = shadow_comparer(settings, stores, routing, calls, guard)
    if shadow is not None:
        resources.push_async_callback(shadow.close)
        answer_observers.append(shadow)
    if settings.judge_model:
        judge = Judge(calls, stores.experiments, settings.judge_model, settings.judge_sample_rate)
        resources.push_async_callback(judge.close)
        answer_observers.append(judge)
    answerer = Answerer(
        calls,
        stores.conversations,
        max_output_tokens=settings.llm_max_output_tokens,
        observers=answer_observers,
        lease_s=settings.answer_lease_s,
        clock=clock,
    )
    pinned = await pinned_strategies(routing, stores, versions)
    knowledge = KnowledgeStore(db)
    resources.push_async_callback(knowledge.close)
    engine = Engine(
        stores.conversations,
        ExperimentPicker(
            routing.experiments, routing.strategies, settings.routing_strategy, clock, pinned
        ),
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
        guard=guard,
        clock=clock,
        librarian=Librarian(KnowledgeBase(knowledge), knowledge_config(settings)),
    )
    digest = digest_job(settings, stores, routing, notifiers, clock=clock)
    ops = Operations(stores.conversations, stores.signals, stores.ledger, zone, clock)
    return Switchboard(settings, stores, routing, engine, ops, digest, metrics, judge, versions,
                       calls, shadow, resources)  # fmt: skip


def knowledge_config(settings: Settings) -> KnowledgeConfig:
    return KnowledgeConfig(
        passages=settings.kb_passages,
        min_confidence=settings.kb_min_confidence,
        answer_without_sources=settings.kb_answer_without_sources,
        channel_collections=channel_collections(settings.kb_channel_collections),
    )


async def pinned_strategies(
    routing: Routing, stores: Stores, versions: RouterVersions
) -> dict[tuple[str, str], Strategy]:
    """Experiment variants that score with a fixed router version (A/B of two versions)."""
    found: dict[tuple[str, str], Strategy] = {}
    for experiment in routing.experiments:
        for variant in experiment.variants:
            if variant.router_version is None:
                continue
            row = await stores.learning.version(variant.router_version)
            if row is None or row.model is None:
                raise ConfigError(
                    f"ROUTING_FILE: experiment {experiment.name!r} variant {variant.name!r}: "
                    f"no router version {variant.router_version} with a model (see "
                    "`switchboard router versions`)"
                )
            judge = AnalyzerJudge(ScorerSlot(versions.scorer(row), row.id), routing.config)
            if variant.strategy == "tiered":
                strategy: Strategy = TieredStrategy(judge, routing.config, routing.health)
            else:
                strategy = TieredEdenStrategy(judge, routing.config)
            found[(experiment.name, variant.name)] = strategy
    return found


def shadow_comparer(
    settings: Settings,
    stores: Stores,
    routing: Routing,
    calls: Calls,
    gate: BudgetGuard,
) -> ShadowComparer | None:
    if not settings.shadow_sample_rate:
        return None
    if not settings.judge_model:
        raise ConfigError(
            "SHADOW_SAMPLE_RATE needs a judge to score the two answers: set JUDGE_MODEL too"
        )
    config = ShadowConfig(
        settings.shadow_sample_rate,
        settings.judge_model,
        routing.config.tiers,
        settings.llm_max_output_tokens,
    )
    return ShadowComparer(calls, stores.learning, gate, config)


def call_estimate(pricer: Pricer, settings: Settings) -> Callable[[str, int], int | None]:
    """At most what one call can cost: its prompt plus the output cap, at the model's price."""
    cap = settings.llm_max_output_tokens

    def estimate(model: str, prompt_tokens: int) -> int | None:
        return pricer.price(model, Usage(prompt_tokens, cap))

    return estimate


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

    quality = quality_report(settings, stores)
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
        quality_lines=quality.lines,
    )


def quality_report(settings: Settings, stores: Stores) -> QualityReport:
    return QualityReport(
        stores.learning,
        margin=settings.quality_margin_points,
        min_sample=settings.quality_min_sample,
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
    digest scheduler, the metrics endpoint and the dashboard. Platform SDKs are imported only
    when used. A web listener left open to the network raises ConfigError here, before any
    service starts."""
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
    found["router"] = partial(sb.versions.follow, settings.router_refresh_s)
    if settings.router_tune_daily:
        found["router-tune"] = daily_tune(sb).serve
    if settings.metrics_port is not None:
        from adapters.web.metrics import serve as serve_metrics

        found["metrics"] = partial(serve_metrics, sb.metrics, sb.stores.db,
                                   metrics_access(settings), settings.metrics_port)  # fmt: skip
    if settings.dashboard_port is not None:
        found["dashboard"] = dashboard_service(settings, sb.stores, sb.routing,
                                               settings.dashboard_port)  # fmt: skip
    return found


def daily_tune(switchboard: Switchboard) -> DailyTune:
    settings, stores = switchboard.settings, switchboard.stores
    weights = LabelWeights.from_settings(settings)
    hour, minute = (int(part) for part in settings.digest_time.split(":"))
    return DailyTune(
        switchboard.versions,
        partial(collect, stores.learning, weights),
        stores.claims,
        ZoneInfo(settings.timezone),
        (hour, minute),
        utcnow,
    )


def metrics_access(settings: Settings) -> Access:
    """Loopback, or METRICS_TOKEN: ConfigError (exit 2) before anything listens otherwise."""
    from adapters.web.access import Access

    return Access.checked(settings.metrics_host, settings.metrics_token, setting="METRICS",
                          realm="Switchboard metrics")  # fmt: skip


def dashboard_access(settings: Settings) -> Access:
    """Loopback, or DASHBOARD_TOKEN: ConfigError (exit 2) before anything listens otherwise."""
    from adapters.web.access import Access

    return Access.checked(settings.dashboard_host, settings.dashboard_token, setting="DASHBOARD",
                          realm="Switchboard dashboard")  # fmt: skip


def dashboard_service(
    settings: Settings,
    stores: Stores,
    routing: Routing,
    port: int,
    clock: Callable[[], datetime] = utcnow,
) -> Service:
    """The read-only web dashboard over `stores` (`switchboard run`, `switchboard dashboard`)."""
    from adapters.web.dashboard import DashboardConfig, DashboardSources, serve_dashboard

    config = DashboardConfig(
        zone=ZoneInfo(settings.timezone),
        policy=BudgetPolicy.from_settings(settings),
        baseline_model=baseline_model(settings, routing.config),
        experiments=routing.experiments,
        show_texts=settings.dashboard_show_texts,
    )
    from adapters.web.quality import ShadowQuality

    sources = DashboardSources.over(stores.db, stores.ledger, stores.experiments)
    sources = dataclasses.replace(
        sources, comparisons=ShadowQuality(stores.learning, settings.quality_margin_points)
    )
    return partial(serve_dashboard, sources, config, dashboard_access(settings), port, clock)


def digest_scheduler(switchboard: Switchboard) -> DigestScheduler:
    from bot.spend.scheduler import DigestScheduler, digest_trigger
    from storage.leader import LeaderLock

    job = switchboard.digest
    trigger = digest_trigger(switchboard.settings.digest_time, job.zone)
    return DigestScheduler(job, trigger, LeaderLock(switchboard.stores.db))
