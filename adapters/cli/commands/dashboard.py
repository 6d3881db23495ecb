"""`switchboard dashboard`: the read-only web dashboard on its own, over DATABASE_URL.

Needs no bot tokens or LLM key: whoever pays the bill runs it against the production database
(a read-only database user is enough once migrations have run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from adapters.routing_setup import build_routing
from adapters.services import dashboard_access, dashboard_service
from adapters.stores import stores_for
from bot.settings import Settings, load_settings

DEFAULT_PORT = 8050


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    dashboard = subparsers.add_parser(
        "dashboard", help="serve the read-only spend and quality dashboard (DATABASE_URL only)"
    )
    dashboard.add_argument("--host", help="address to listen on (default: DASHBOARD_HOST, "
                           "127.0.0.1; anything else needs DASHBOARD_TOKEN)")  # fmt: skip
    dashboard.add_argument("--port", type=int,
                           help=f"port (default: DASHBOARD_PORT, else {DEFAULT_PORT})")  # fmt: skip
    dashboard.set_defaults(func=_dashboard)


def _dashboard(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["dashboard_host"] = args.host
    if args.port is not None:
        overrides["dashboard_port"] = args.port
    settings = load_settings(**overrides)
    access = dashboard_access(settings)  # refuse an open listener before touching the database
    routing = build_routing(settings)
    port = settings.dashboard_port or DEFAULT_PORT
    shown = f"[{access.host}]" if ":" in access.host else access.host
    print(f"Switchboard dashboard on http://{shown}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    asyncio.run(_serve(settings, routing, port))
    return 0


async def _serve(settings: Settings, routing: Any, port: int) -> None:
    async with stores_for(settings) as stores:
        await dashboard_service(settings, stores, routing, port)()
