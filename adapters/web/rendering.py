"""How the dashboard's pages are made: the Jinja templates (autoescaped, compiled once per
process) with their filters, and the headers every response carries."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from adapters.web.breakdowns import BREAKDOWNS, COLUMNS, dimension_title
from adapters.web.chart import tier_label
from adapters.web.overview import savings_percent
from adapters.web.periods import link
from bot.spend.money import format_usd, savings_words
from routing.tiers import TIERS

TEMPLATES = Path(__file__).parent / "templates"

# No script may run and nothing may be fetched from elsewhere: the pages need neither.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@functools.cache
def environment() -> jinja2.Environment:
    """The templates, compiled once per process (package files: they never change)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # package files: no stat() per page to see whether they changed
    )
    env.filters.update(
        usd=format_usd,
        tier=tier_label,
        count=lambda n: f"{n:,}",
        percent=lambda v: "–" if v is None else f"{v:.0f}%",
        saved=lambda t: savings_words(t.savings_nano_usd, savings_percent(t)),
    )
    env.globals.update(
        link=link,
        columns=COLUMNS,
        breakdowns=BREAKDOWNS,
        dimension_title=dimension_title,
        savings_percent=savings_percent,
        tiers=TIERS,
    )
    return env


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as error:  # 400 / 404 pages get the same headers
        error.headers.update(SECURITY_HEADERS)
        raise
    if not response.prepared:  # a streamed response sent its own headers already
        response.headers.update(SECURITY_HEADERS)
    return response
