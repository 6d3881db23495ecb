"""Where LLM calls go: the configured API when a key is set, else (or with LLM_SIMULATOR=true)
the built-in simulator."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.settings import Settings


@asynccontextmanager
async def llm_endpoint(
    settings: Settings, *, quiet: bool = False, speed: float = 1.0
) -> AsyncIterator[str]:
    """Yield the base URL to talk to; start (and stop) a simulator when there is no API key
    or LLM_SIMULATOR is true. The notice goes to stderr: stdout stays the command's own."""
    if settings.has_api_key and not settings.llm_simulator:
        yield settings.llm_base_url
        return
    if not quiet:
        why = "LLM_SIMULATOR=true" if settings.llm_simulator else "No LLM_API_KEY set"
        print(f"{why}: using the built-in LLM simulator (answers are simulated).",
              file=sys.stderr)  # fmt: skip
    from adapters.llm.simulator import LLMSimulator  # an aiohttp server: only when used

    async with LLMSimulator(seed=settings.simulator_seed, speed=speed) as simulator:
        yield simulator.base_url
