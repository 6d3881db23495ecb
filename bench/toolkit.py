"""What several bench scripts share: the machine's load, a percentile, a local HTTP stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiohttp is imported by the scripts that serve, not by the others
    from aiohttp import web


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(ordered: list[float], q: float) -> float:
    return ordered[int(len(ordered) * q)]


async def serve(app: web.Application) -> tuple[web.AppRunner, int]:
    """`app` listening on a free loopback port: its runner (to clean up) and the port."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
