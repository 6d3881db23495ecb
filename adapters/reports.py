"""The reporting part of the composition root: the daily digest, the judged-quality lines and
the operators' channels that notices go to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.routing_setup import Routing, baseline_model
from adapters.stores import Stores
from bot.learning.quality import QualityReport
from bot.notices import Notifier
from bot.settings import Settings
from bot.spend.policy import BudgetPolicy
from bot.spend.scheduler import DigestJob
from storage.database import run_transaction
from storage.knowledge_answers import knowledge_use
from storage.tables import utcnow


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

    async def knowledge(end: datetime) -> list[str]:
        """The digest day's questions: answered from the docs, most cited, content gaps."""
        from bot.knowledge.gaps import group_gaps, summary_lines  # the retrieval stack

        start = end - timedelta(days=1)
        use = await run_transaction(stores.db, lambda conn: knowledge_use(conn, start, end))
        return summary_lines(use, group_gaps(use.gaps))

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
        knowledge_lines=knowledge,
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
