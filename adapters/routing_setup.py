"""The routing part of the composition root: the routing file, its strategies and experiments.

Apart from `adapters.composition` so that `switchboard route` builds its strategies without
importing the database, the HTTP client and the rest of the bot (start-up time).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.experiments.config import Experiment, parse_experiments
from bot.settings import Settings
from routing.active import ScorerSlot
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


@dataclass(frozen=True)
class Routing:
    """The routing file, its experiments, and the strategies built from it."""

    config: RoutingConfig
    strategies: Mapping[str, Strategy]
    experiments: tuple[Experiment, ...]
    health: ModelHealth
    scorer: ScorerSlot  # the router version the tiered strategies score with


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
    scorer = ScorerSlot(shipped_analyzer())
    judge = AnalyzerJudge(scorer, config)
    strategies: dict[str, Strategy] = {
        "fixed": FixedStrategy(settings.fixed_model),
        "tiered": TieredStrategy(judge, config, health),
        "tiered-edenai": TieredEdenStrategy(judge, config),
        "keyword": TieredStrategy(keyword_judge, config, health, name="keyword"),
    }
    if config.edenai_candidates:  # the one strategy that needs the [edenai] section
        strategies["edenai"] = EdenStrategy(config.edenai_candidates)
    elif settings.routing_strategy == "edenai":
        raise ConfigError(
            f"ROUTING_STRATEGY=edenai needs an [edenai] section with candidates in {config.source}"
        )
    if settings.routing_strategy not in strategies:
        known = ", ".join(sorted(strategies))
        raise ConfigError(
            f"ROUTING_STRATEGY: unknown strategy {settings.routing_strategy!r} (known: {known})"
        )
    experiments = parse_experiments(config.experiments, tuple(strategies))
    return Routing(config, strategies, experiments, health, scorer)


async def active_routing(settings: Settings) -> Routing:
    """The strategies, scoring with the router version live traffic uses: read from the
    database when there is one (routing alone needs none, and creates none)."""
    routing = build_routing(settings)
    if not _may_have_database(settings):
        return routing  # no database yet: nothing imported, nothing created
    from adapters.database import NoDatabase, open_database
    from bot.learning.versions import RouterVersions
    from storage.learning import LearningData

    try:
        db = await open_database(settings, migrate=False, create=False)
    except NoDatabase:
        return routing
    try:
        base = shipped_analyzer()
        await RouterVersions(LearningData(db), base, routing.scorer).refresh()
    finally:
        await db.dispose()
    return routing


def _may_have_database(settings: Settings) -> bool:
    url = settings.resolved_database_url
    return not url.startswith("sqlite") or Path(url.split("///", 1)[1]).exists()


def baseline_model(settings: Settings, routing: RoutingConfig) -> str:
    """Savings are measured against BASELINE_MODEL, else the premium tier's first model (as
    priced: a proxy's alias counts as the model it names in `price_as`)."""
    return settings.baseline_model or routing.catalog.price_name(routing.premium_model)
