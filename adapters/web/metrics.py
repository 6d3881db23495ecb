"""`/metrics` (Prometheus) and `/healthz` over HTTP, served when METRICS_PORT is set."""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics

log = logging.getLogger(__name__)


def metrics_web_app(metrics: Metrics, db: AsyncEngine) -> web.Application:
    async def scrape(request: web.Request) -> web.Response:
        try:
            await metrics.refresh_budgets()
        except Exception:  # a database hiccup must not hide the call counters
            log.exception("metrics: reading budget spend failed")
        return web.Response(
            body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(request: web.Request) -> web.Response:
        try:
            async with db.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as error:
            log.warning("healthz: database check failed: %s", error)
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(metrics: Metrics, db: AsyncEngine, port: int) -> None:
    """Serve /metrics and /healthz on METRICS_PORT until cancelled.

    Binds every interface: Prometheus usually scrapes from another host or container.
    """
    runner = web.AppRunner(metrics_web_app(metrics, db))
    await runner.setup()
    try:
        await web.TCPSite(runner, "0.0.0.0", port).start()
        log.info("metrics on :%s/metrics", port)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
