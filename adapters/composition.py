"""The composition root: the one place that builds every long-lived object and wires them.

`switchboard run`, every CLI command, the demo, the benchmarks and the tests build through
here. Everything is passed in explicitly, in dependency order; nothing is patched afterwards:

    settings -> database -> stores -> providers -> the metered call path (+ call observers)
             -> answerer (+ judge, shadow) -> engine -> operations -> platform adapters
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.knowledge.folders import FolderReader
from adapters.llm_setup import http_providers, metered_calls, provider_keys
from adapters.reports import digest_job, platform_notifiers
from adapters.routing_setup import Routing, baseline_model, build_routing
from adapters.stores import Stores, open_database, router_versions
from bot.conversation.answer import Answerer, AnswerObserver
from bot.conversation.engine import Engine, EngineConfig
from bot.conversation.policy import TierPolicy
from bot.errors import ConfigError
from bot.experiments.assignment import ExperimentPicker
from bot.experiments.judge import Judge
from bot.knowledge.config import KnowledgeConfig, channel_collections
from bot.knowledge.grounding import Librarian
from bot.knowledge.ingest import Ingest
from bot.knowledge.retrieval import KnowledgeBase
from bot.knowledge.semantic import Semantic
from bot.learning.shadow import ShadowComparer, ShadowConfig
from bot.learning.solved import SolvedThreads
from bot.learning.versions import RouterVersions
from bot.llm.calls import Calls
from bot.llm.health import HealthObserver
from bot.llm.pricing import Pricer
from bot.llm.provider import Provider
from bot.llm.types import Usage
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
from storage.database import upgrade
from storage.journal import Journal
from storage.knowledge import KnowledgeStore
from storage.solved import Proposals
from storage.tables import utcnow

if TYPE_CHECKING:
    from bot.metrics import Metrics


@dataclass
class Switchboard:
    """The wired core. Adapters are handed the parts they need (`engine`, `ops`), never this."""

    settings: Settings
    stores: Stores
    routing: Routing
    engine: Engine
    ops: Operations
    digest: DigestJob
    metrics: Metrics | None  # only with METRICS_PORT: nothing would read the counters
    judge: Judge | None
    versions: RouterVersions
    calls: Calls  # the metered call path: every provider request (embeddings too) goes here
    shadow: ShadowComparer | None = None
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def close(self) -> None:
        await self.resources.aclose()


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once a process: httpx builds one for each client
    otherwise, loading the CA bundle (~24 ms of CPU) for every switchboard built."""
    return httpx.create_ssl_context()


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
    stores = Stores.over(db, wait_s=max(0.25, settings.database_wait_s),
                         journal=Journal(settings.data_dir / "journal"))  # fmt: skip
    resources.push_async_callback(stores.conversations.close)  # kept writes, then dispose
    await stores.conversations.spool.adopt()  # what a crashed process kept: before recovery
    versions = router_versions(stores, routing.scorer)
    await versions.refresh()  # live traffic scores with the active router version
    if provider is None:
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=100), verify=tls_context())
        resources.push_async_callback(http.aclose)
        base_url = llm_base_url or settings.llm_base_url
        provider = http_providers(settings, routing.config.catalog, http, base_url)
    if notifiers is None:
        notifiers = await platform_notifiers(settings, resources)
    notifiers = tuple(notifiers) or (LogNotifier(),)
    zone = ZoneInfo(settings.timezone)
    budget = BudgetPolicy.from_settings(settings)
    baseline = baseline_model(settings, routing.config)
    metrics = prometheus_metrics(settings, stores, budget, clock)
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
        observers=(meter, HealthObserver(routing.health), alerts,
                   *((metrics,) if metrics is not None else ())),
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
    resources.push_async_callback(answerer.close)  # before the stores close (LIFO)
    pinned = await pinned_strategies(routing, stores, versions)
    knowledge = KnowledgeStore(db)
    resources.push_async_callback(knowledge.close)
    semantic = semantic_search(settings, calls, knowledge)
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
        librarian=Librarian(
            KnowledgeBase(knowledge, semantic=semantic), knowledge_config(settings)
        ),
    )
    digest = digest_job(settings, stores, routing, notifiers, clock=clock)
    solved = solved_threads(settings, knowledge, zone, redact, semantic)
    ops = Operations(stores.conversations, stores.signals, stores.ledger, zone, clock, solved)
    return Switchboard(settings, stores, routing, engine, ops, digest, metrics, judge, versions,
                       calls, shadow, resources)  # fmt: skip


def prometheus_metrics(
    settings: Settings, stores: Stores, budget: BudgetPolicy, clock: Callable[[], datetime]
) -> Metrics | None:
    """The call counters /metrics serves, when METRICS_PORT is set. Without it nothing reads
    them, and prometheus_client (with the http.server and wsgiref it imports) stays unloaded:
    ~1 MB of a bot's idle RSS (docs/benchmarks.md, section 12)."""
    if settings.metrics_port is None:
        return None
    from bot.metrics import Metrics

    return Metrics(stores.ledger, budget, clock)


def semantic_search(settings: Settings, calls: Calls, knowledge: KnowledgeStore) -> Semantic | None:
    """Semantic retrieval when KB_EMBEDDING_MODEL names a model (docs/knowledge.md)."""
    model = settings.kb_embedding_model.strip()
    return Semantic(calls, knowledge, model) if model else None


def solved_threads(
    settings: Settings,
    knowledge: KnowledgeStore,
    zone: ZoneInfo,
    redact: Redactor,
    semantic: Semantic | None = None,
) -> SolvedThreads:
    """Solved threads proposed as knowledge entries, added through the knowledge base's
    programmatic ingest (docs/knowledge.md)."""
    reader = FolderReader(settings.kb_max_file_bytes, settings.kb_max_files)
    return SolvedThreads(Proposals(knowledge.db), Ingest(knowledge, reader, semantic), zone,
                         auto_approve=settings.kb_auto_approve_solved, redact=redact)  # fmt: skip


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
