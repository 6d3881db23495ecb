"""The read-only spend and quality dashboard: server-rendered HTML over the ledger, no JavaScript.

Pages: / (overview), /breakdowns (+ .csv), /calls.csv (the period's calls, as `switchboard
report` writes them), /quality, /knowledge, /experiments, /decisions, /threads/{id}.
Served by `switchboard run` when DASHBOARD_PORT is set, or alone by `switchboard dashboard`.
Every request goes through `Access` (access.py); nothing here writes to the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.ledger_export import REPORT_COLUMNS, report_row
from adapters.web.access import Access
from adapters.web.breakdowns import (
    BREAKDOWNS,
    SORTS,
    breakdown_csv,
    build_breakdown,
)
from adapters.web.overview import CHART_DAYS, build_overview
from adapters.web.periods import period_from, presets
from adapters.web.quality import TierComparisons, build_quality
from adapters.web.rendering import SECURITY_HEADERS, environment, security_headers
from adapters.web.server import serve_app
from bot.experiments.config import Experiment
from bot.spend.policy import BudgetPolicy
from storage.decisions import ChannelRef, Decisions
from storage.experiments import ExperimentData
from storage.ledger import Ledger
from storage.quality import QualityData
from storage.rollups import Dimension
from storage.tables import utcnow

STATIC = Path(__file__).parent / "static"
DECISIONS_PER_PAGE = 50
STREAM_CHUNK = 64 * 1024

@dataclass(frozen=True)
class DashboardSources:
    """The stores the pages read (all read-only here)."""

    ledger: Ledger
    decisions: Decisions
    quality: QualityData
    experiments: ExperimentData
    comparisons: TierComparisons | None = None  # shadow comparisons, once they are recorded
    db: AsyncEngine | None = None  # the knowledge page's reports

    @classmethod
    def over(cls, db: AsyncEngine, ledger: Ledger, experiments: ExperimentData) -> DashboardSources:
        return cls(ledger, Decisions(db), QualityData(db), experiments, db=db)


@dataclass(frozen=True)
class DashboardConfig:
    zone: ZoneInfo
    policy: BudgetPolicy
    baseline_model: str
    experiments: tuple[Experiment, ...] = ()
    show_texts: bool = False


class Pages:
    """The request handlers: read the query, build the page's figures, render its template."""

    def __init__(
        self,
        sources: DashboardSources,
        config: DashboardConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._s, self._c, self._clock = sources, config, clock
        self._env = environment()
        self._reports: Any = None  # experiments.ExperimentReports, built on first use

    async def close(self) -> None:
        if self._reports is not None:
            await self._reports.close()

    def _render(self, request: web.Request, template: str, **context: Any) -> web.Response:
        now = self._clock().astimezone(self._c.zone)
        section = "/" + request.path.strip("/").split("/")[0]
        html = self._env.get_template(template).render(
            section="/decisions" if section == "/threads" else section,
            now=now,
            zone=self._c.zone.key,
            **context,
        )
        return web.Response(text=html, content_type="text/html")

    async def overview(self, request: web.Request) -> web.Response:
        days_text = request.query.get("days") or str(CHART_DAYS[0])
        days = int(days_text) if days_text.isdigit() else 0
        if days not in CHART_DAYS:
            raise web.HTTPBadRequest(text=f"days: one of {', '.join(map(str, CHART_DAYS))}\n")
        view = await build_overview(
            self._s.ledger,
            self._c.policy,
            self._c.zone,
            self._clock(),
            baseline_model=self._c.baseline_model,
            chart_days=days,
        )
        return self._render(request, "overview.html", o=view, chart_choices=CHART_DAYS)

    def _breakdown_query(self, request: web.Request) -> tuple[Dimension, str, bool]:
        by = request.query.get("by", BREAKDOWNS[0])
        sort = request.query.get("sort", "spend")
        if by not in BREAKDOWNS:
            raise web.HTTPBadRequest(text=f"by: one of {', '.join(BREAKDOWNS)}\n")
        if sort not in SORTS:
            raise web.HTTPBadRequest(text=f"sort: one of {', '.join(SORTS)}\n")
        return by, sort, request.query.get("order", "desc") != "asc"

    async def breakdowns(self, request: web.Request) -> web.Response:
        by, sort, descending = self._breakdown_query(request)
        period = period_from(request.query, self._clock(), self._c.zone)
        view = await build_breakdown(self._s.ledger, by, period, sort, descending)
        return self._render(request, "breakdowns.html", b=view,
                            presets=presets(self._clock(), self._c.zone))  # fmt: skip

    async def breakdowns_csv(self, request: web.Request) -> web.Response:
        by, sort, descending = self._breakdown_query(request)
        period = period_from(request.query, self._clock(), self._c.zone)
        view = await build_breakdown(self._s.ledger, by, period, sort, descending)
        name = f"switchboard-{by}-{period.first}-{period.last}.csv"
        return web.Response(
            text=breakdown_csv(view),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def calls_csv(self, request: web.Request) -> web.StreamResponse:
        """Every call of the period, streamed: the rows `switchboard report` writes."""
        period = period_from(request.query, self._clock(), self._c.zone)
        name = f"switchboard-calls-{period.first}-{period.last}.csv"
        response = web.StreamResponse(headers={
            **SECURITY_HEADERS,
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        })  # fmt: skip
        await response.prepare(request)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
        writer.writeheader()
        async for row in self._s.ledger.export(start=period.start, end=period.end):
            writer.writerow(report_row(row, self._c.zone))
            if buffer.tell() > STREAM_CHUNK:
                await response.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
        await response.write(buffer.getvalue().encode("utf-8"))
        await response.write_eof()
        return response

    async def quality(self, request: web.Request) -> web.Response:
        period = period_from(request.query, self._clock(), self._c.zone)
        view = await build_quality(self._s.quality, self._s.ledger, period, self._s.comparisons)
        return self._render(request, "quality.html", q=view,
                            presets=presets(self._clock(), self._c.zone))  # fmt: skip

    async def knowledge(self, request: web.Request) -> web.Response:
        from adapters.web.knowledge import build_knowledge  # the retrieval stack

        if self._s.db is None:
            raise web.HTTPNotFound(text="no knowledge base reports here\n")
        period = period_from(request.query, self._clock(), self._c.zone)
        view = await build_knowledge(self._s.db, period)
        return self._render(request, "knowledge.html", k=view, show_texts=self._c.show_texts,
                            presets=presets(self._clock(), self._c.zone))  # fmt: skip

    async def experiments(self, request: web.Request) -> web.Response:
        # The A/B statistics load scipy: only this page pays for it, on its first request.
        from adapters.web import experiments

        if self._reports is None:
            self._reports = experiments.ExperimentReports(
                self._s.experiments, self._c.experiments, self._clock
            )
        computed = await self._reports.latest()
        return self._render(request, "experiments.html", views=computed.views,
                            computed_at=computed.at, fmt=experiments)  # fmt: skip

    async def decisions(self, request: web.Request) -> web.Response:
        key = request.query.get("channel") or ""
        channel = ChannelRef.parse(key) if key else None
        if key and channel is None:
            raise web.HTTPBadRequest(text="channel: platform/workspace/channel\n")
        tier = request.query.get("tier")
        tier = None if tier in (None, "all") else tier
        before = request.query.get("before", "")
        if before and not before.isdigit():
            raise web.HTTPBadRequest(text="before: a call id\n")
        rows = await self._s.decisions.latest(
            limit=DECISIONS_PER_PAGE,
            channel=channel,
            tier=tier,
            before_id=int(before) if before else None,
        )
        return self._render(
            request,
            "decisions.html",
            rows=rows,
            channel=channel,
            tier=tier,
            channels=await self._s.decisions.recent_channels(),
            older=rows[-1].id if len(rows) == DECISIONS_PER_PAGE else None,
        )

    async def thread(self, request: web.Request) -> web.Response:
        thread_id = request.match_info["thread_id"]
        if not thread_id.isdigit():
            raise web.HTTPNotFound(text="no such thread\n")
        turns = await self._s.decisions.thread(int(thread_id), with_texts=self._c.show_texts)
        if turns is None:
            raise web.HTTPNotFound(text="no such thread\n")
        by_question: dict[int, list[Any]] = {}
        for call in turns.calls:
            by_question.setdefault(call.message_id, []).append(call)
        return self._render(request, "thread.html", t=turns, by_question=by_question,
                            show_texts=self._c.show_texts)  # fmt: skip


def dashboard_app(
    sources: DashboardSources,
    config: DashboardConfig,
    access: Access,
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    pages = Pages(sources, config, clock)
    app = web.Application(middlewares=[security_headers, access.middleware()])
    get: Callable[[str, Callable[[web.Request], Awaitable[web.StreamResponse]]], Any]
    get = app.router.add_get
    get("/", pages.overview)
    get("/breakdowns", pages.breakdowns)
    get("/breakdowns.csv", pages.breakdowns_csv)
    get("/calls.csv", pages.calls_csv)
    get("/quality", pages.quality)
    get("/knowledge", pages.knowledge)
    get("/experiments", pages.experiments)
    get("/decisions", pages.decisions)
    get("/threads/{thread_id}", pages.thread)
    app.router.add_static("/static", STATIC)

    async def close(app: web.Application) -> None:
        await pages.close()

    app.on_cleanup.append(close)
    return app


async def serve_dashboard(
    sources: DashboardSources,
    config: DashboardConfig,
    access: Access,
    port: int,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    app = dashboard_app(sources, config, access, clock)
    await serve_app(app, access.host, port, "dashboard", "DASHBOARD")
