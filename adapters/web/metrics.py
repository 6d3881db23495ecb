"""`/metrics` (Prometheus) and `/healthz` over HTTP, served when METRICS_PORT is set.

Bound to METRICS_HOST (127.0.0.1 by default); another address needs METRICS_TOKEN (access.py).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.web.access import Access
from adapters.web.server import serve_app
from bot.metrics import Metrics

log = logging.getLogger(__name__)


def metrics_web_app(metrics: Metrics, db: AsyncEngine, access: Access) -> web.Application:
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

    app = web.Application(middlewares=[access.middleware()])
    app.router.add_get("/metrics", scrape)
    app.router.add_get("/healthz", healthz)
    return app


async def serve(metrics: Metrics, db: AsyncEngine, access: Access, port: int) -> None:
    """Serve /metrics and /healthz on `access.host`:`port` until cancelled."""
    await serve_app(metrics_web_app(metrics, db, access), access.host, port, "metrics",
                    "METRICS")
