"""The long-running parts of `switchboard run` (each configured platform adapter, the digest
scheduler, router refresh and tuning, metrics, the dashboard), built over a wired `Switchboard`.
Platform SDKs and web servers are imported only when used."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from adapters.routing_setup import Routing, baseline_model
from adapters.stores import Stores
from bot.learning.labels import LabelWeights, collect
from bot.learning.versions import DailyTune
from bot.settings import Settings
from bot.spend.policy import BudgetPolicy
from storage.tables import utcnow

if TYPE_CHECKING:
    from adapters.composition import Switchboard
    from adapters.web.access import Access
    from bot.spend.scheduler import DigestScheduler


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
    if settings.metrics_port is not None and sb.metrics is not None:
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
