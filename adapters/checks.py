"""Live checks of each configured part: what `switchboard doctor` prints, one line each, and
what `switchboard run` verifies before it starts (it stops on a `fatal` failure instead of
retrying a bad credential forever).

Each check talks to the real thing (the LLM API, Slack, Discord, the database) through the same
clients the bot uses; the platform ones live next to their adapters (adapters/*/check.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from adapters.findings import Finding, failed, passed
from bot.errors import ConfigError, SwitchboardError
from bot.settings import Settings
from storage.records import CallRecord

if TYPE_CHECKING:
    from adapters.llm.check import Target
    from bot.llm.calls import Calls
    from routing.config import RoutingConfig
    from storage.conversations import Conversations

log = logging.getLogger(__name__)


# --- the parts -----------------------------------------------------------------------------


async def check_llm(settings: Settings, base_url: str, calls: Calls) -> list[Finding]:
    """One check per provider the routing uses (the default one is "LLM"), each a request
    through `calls`, so on the ledger as purpose `check`."""
    if settings.llm_simulator:
        return [passed(
            "LLM",
            "the built-in simulator (LLM_SIMULATOR=true): every answer is fake "
            "and labelled [simulated]",
        )]  # fmt: skip
    if not settings.has_api_key:
        return [failed(
            "LLM",
            "LLM_API_KEY is not set",
            "set LLM_API_KEY (and LLM_BASE_URL if the provider is not Eden AI), or "
            "LLM_SIMULATOR=true to run on fake, labelled answers",
            fatal=True,
        )]  # fmt: skip
    from adapters.llm.check import probe
    from adapters.routing_setup import load_routing_file

    targets = llm_targets(settings, load_routing_file(settings), base_url)
    return list(await asyncio.gather(*(probe(calls, target) for target in targets)))


def llm_targets(settings: Settings, routing: RoutingConfig, base_url: str) -> list[Target]:
    """Each provider the routing uses, once, with the first model it is asked for."""
    from adapters.llm.check import Target
    from routing.candidates import DEFAULT_PROVIDER
    from routing.tiers import TIERS

    keys = [settings.fixed_model] if settings.routing_strategy == "fixed" else [
        key for tier in TIERS for key in routing.tiers[tier]
    ]  # fmt: skip
    if settings.judge_model:
        keys.append(settings.judge_model)
    first: dict[str, str] = {}
    for key in keys:
        first.setdefault(routing.catalog.resolve(key).provider, key)
    targets = []
    for provider, key in first.items():
        if provider == DEFAULT_PROVIDER:
            targets.append(Target(base_url, key))
            continue
        spec = routing.catalog.providers[provider]
        targets.append(Target(
            spec.base_url, key, f"LLM {provider}", spec.api_key_env or "its api_key_env",
            f"providers.{provider}.base_url in {routing.source}",
        ))  # fmt: skip
    return targets


class Unrecorded:
    """Where a check's row goes when there is no ledger yet (doctor before the database is
    created or migrated): nowhere. The line says so."""

    async def record_call(self, record: CallRecord) -> int:
        return 0

    async def record_answered_call(self, record: CallRecord, answer: str) -> tuple[int, int]:
        return 0, 0


@asynccontextmanager
async def check_calls(settings: Settings, base_url: str, *, ledger: bool) -> AsyncIterator[Calls]:
    """The metered call path for `doctor`'s checks: onto the ledger when it is there."""
    import httpx

    from adapters.llm_setup import http_providers, metered_calls, provider_keys
    from adapters.routing_setup import load_routing_file
    from adapters.stores import stores_for
    from bot.llm.pricing import Pricer
    from bot.redaction import Redactor

    routing = load_routing_file(settings)
    redact = Redactor.from_settings(settings, provider_keys(settings, routing.catalog))
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx.AsyncClient())
        store: Unrecorded | Conversations = Unrecorded()
        if ledger:
            stores = await stack.enter_async_context(stores_for(settings, create=False))
            store = stores.conversations
        providers = http_providers(settings, routing.catalog, http, base_url)
        yield metered_calls(settings, routing, providers, store, Pricer(), redact=redact)


async def check_database(settings: Settings) -> Finding:
    from adapters.database import explain, revisions, sqlite_path
    from storage.database import create_engine

    where = settings.database_shown
    path = sqlite_path(settings.resolved_database_url)
    create = "run `switchboard db upgrade` (`switchboard run` also does it at start)"
    if path is not None and not path.exists():
        return failed("database", f"no database at {where} yet", create)
    db = create_engine(settings.resolved_database_url)
    try:
        state = await revisions(db)
    except Exception as error:
        explained = explain(error, settings)
        if explained is None:
            log.exception("database check failed")
            explained = (f"cannot open {where} ({type(error).__name__})", "check DATABASE_URL")
        return failed("database", *explained, fatal=True)
    finally:
        await db.dispose()
    if not state.current:
        return failed("database", f"{where} has no Switchboard tables", create)
    if not state.latest:
        return failed(
            "database",
            f"{where} is at {state.describe()}, the latest is {state.describe(state.heads)}",
            create,
        )
    return passed("database", f"{where} at the latest migration ({state.describe()})")


def check_time_zone(settings: Settings, now: datetime | None = None) -> Finding:
    zone = ZoneInfo(settings.timezone)
    local = (now or datetime.now(zone)).astimezone(zone)
    return passed(
        "time zone",
        f"{settings.timezone} (now {local:%Y-%m-%d %H:%M %Z}); daily digest at "
        f"{settings.digest_time} local",
    )


def check_routing(settings: Settings) -> Finding:
    from adapters.routing_setup import build_routing

    try:
        routing = build_routing(settings)
    except SwitchboardError as error:
        return failed("routing", str(error), "fix ROUTING_FILE / ROUTING_STRATEGY", fatal=True)
    source = settings.routing_file or "the bundled routing file"
    experiments = len(routing.experiments)
    return passed(
        "routing",
        f"strategy {settings.routing_strategy} from {source}"
        + (f", {experiments} experiment(s)" if experiments else ""),
    )


async def platform_checks(settings: Settings, *, thorough: bool) -> list[Finding]:
    """Slack and Discord, each only when configured. `thorough` (doctor) also opens the
    Socket Mode websocket and looks up the channels; `run` only checks the credentials."""
    from adapters.discord.config import DiscordConfig
    from adapters.slack.config import SlackConfig

    parts: list[Awaitable[list[Finding]]] = []
    slack = SlackConfig.from_settings(settings)
    if slack is not None:
        from adapters.slack.check import check_slack

        channel = settings.digest_slack_channel if thorough else ""
        parts.append(check_slack(slack, digest_channel=channel, connect_socket=thorough))
    discord = DiscordConfig.from_settings(settings)
    if discord is not None:
        from adapters.discord.check import check_discord

        channel_id = settings.digest_discord_channel_id if thorough else None
        parts.append(check_discord(discord, digest_channel_id=channel_id, channels=thorough))
    found: list[Finding] = []
    for findings in await asyncio.gather(*parts):
        found.extend(findings)
    return found


def check_platforms_configured(settings: Settings) -> Finding:
    names = []
    if settings.slack_bot_token:
        names.append("Slack")
    if settings.discord_bot_token:
        names.append("Discord")
    if not names:
        return failed(
            "platforms",
            "neither Slack nor Discord is configured",
            "set SLACK_BOT_TOKEN with SLACK_APP_TOKEN or SLACK_SIGNING_SECRET, or "
            "DISCORD_BOT_TOKEN (`switchboard chat` works without)",
        )
    if settings.slack_bot_token and not (settings.slack_app_token or settings.slack_signing_secret):
        return failed(
            "platforms",
            "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET",
            "set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)",
        )
    return passed("platforms", " and ".join(names))


async def doctor(settings: Settings, base_url: str) -> list[Finding]:
    """Every check, in the order `switchboard doctor` prints them. The LLM checks are billed,
    so they are on the ledger when the database is ready (else their line says they are not)."""
    platforms = asyncio.create_task(platform_checks(settings, thorough=True))
    database = await check_database(settings)
    routing = check_routing(settings)
    llm = [failed("LLM", "not checked: the routing file is not usable", "fix it (above)")]
    if routing.ok:
        async with check_calls(settings, base_url, ledger=database.ok) as calls:
            llm = await check_llm(settings, base_url, calls)
        if not database.ok:
            llm = [_unrecorded(finding) for finding in llm]
    return [
        routing,
        *llm,
        check_platforms_configured(settings),
        *await platforms,
        database,
        check_time_zone(settings),
    ]


def _unrecorded(finding: Finding) -> Finding:
    if not finding.ok or "simulator" in finding.detail:
        return finding
    return passed(finding.part, f"{finding.detail}; not on the ledger: no database yet")


async def startup_checks(settings: Settings, base_url: str, calls: Calls) -> None:
    """What `switchboard run` verifies first: the LLM and each platform's credentials.
    A fatal failure raises `ConfigError` (one line); the others are logged as warnings."""
    llm, platforms = await asyncio.gather(
        check_llm(settings, base_url, calls), platform_checks(settings, thorough=False)
    )
    for finding in (*llm, *platforms):
        if finding.ok:
            log.info("%s", finding.line())
        elif finding.fatal:
            raise ConfigError(finding.sentence())
        else:
            log.warning("%s", finding.line())
