"""What a call cost, in integer nano-dollars, and how we know.

Order of trust: the provider's own reported cost (Eden's `cost`, OpenRouter's `usage.cost`);
else its reported token usage priced with genai-prices, cache reads, cache writes and reasoning
tokens each at their own rate (or a configured price); else an estimate from the text, flagged
`estimated`. A model nobody can price is `unpriced` with a cost of None: never zero.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from bot.llm.types import ChatMessage, Embeddings, StreamResult, Usage

log = logging.getLogger(__name__)

NANO = Decimal(1_000_000_000)


class CostSource(StrEnum):
    REPORTED = "reported"
    PRICED = "priced"
    ESTIMATED = "estimated"
    UNPRICED = "unpriced"
    UNBILLED = "unbilled"  # failed before any output: providers do not bill those requests


@dataclass(frozen=True)
class Cost:
    nano_usd: int | None
    source: CostSource


@dataclass(frozen=True)
class ModelPrice:
    """USD per one million tokens. Cached prompt tokens are charged the full input price
    (there is no cache price to configure): an override never under-states a cost."""

    input_per_mtok: Decimal
    output_per_mtok: Decimal

    def nano_usd(self, usage: Usage) -> int:
        usd = (
            self.input_per_mtok * usage.input_tokens + self.output_per_mtok * usage.output_tokens
        ) / 1_000_000
        return to_nano(usd)


def to_nano(usd: Decimal) -> int:
    return int((usd * NANO).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def estimate_tokens(text: str) -> int:
    """A rough pre-call estimate (about 4 characters a token); never used for billing proper."""
    return max(1, (len(text) + 3) // 4) if text else 0


def message_tokens(content: str) -> int:
    """One message's estimated size in a prompt: its text plus the role and separators."""
    return estimate_tokens(content) + 4


def prompt_tokens(messages: Iterable[ChatMessage]) -> int:
    """The one estimate of a prompt's size, before the call (budget holds) and after it when
    the provider reported no usage (a stream that broke before its usage chunk)."""
    return sum(message_tokens(m.content) for m in messages)


class Pricer:
    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._overrides = dict(overrides or {})

    def price(self, model: str, usage: Usage) -> int | None:
        """Nano-USD for `usage` on `model`, or None when the model's price is unknown."""
        override = self._overrides.get(model)
        if override is not None:
            return override.nano_usd(usage)
        return _genai_price(model, usage)

    def cost(
        self,
        model: str | None,
        *,
        reported_usd: Decimal | None,
        usage: Usage | None,
        estimated_usage: Usage | None = None,
    ) -> Cost:
        if reported_usd is not None:
            return Cost(to_nano(reported_usd), CostSource.REPORTED)
        if model is not None and usage is not None:
            nano = self.price(model, usage)
            if nano is not None:
                return Cost(nano, CostSource.PRICED)
            return Cost(None, CostSource.UNPRICED)
        if model is not None and estimated_usage is not None:
            nano = self.price(model, estimated_usage)
            if nano is not None:
                return Cost(nano, CostSource.ESTIMATED)
        return Cost(None, CostSource.UNPRICED)


@dataclass(frozen=True)
class AttemptCost:
    nano_usd: int | None
    source: CostSource
    usage: Usage | None  # as reported, else estimated from the text; None when nothing arrived


def price_attempt(
    pricer: Pricer,
    model_asked: str,
    result: StreamResult | Embeddings | None,
    prompt_tokens: int,
    *,
    price_as: str | None = None,
) -> AttemptCost:
    """What one call attempt cost. `prompt_tokens` is the estimate used when the provider
    reported no usage (a stream that broke before its usage chunk); `price_as` names the
    model whose price applies (a proxy's alias), else the model served, else the one asked."""
    if result is None:
        return AttemptCost(0, CostSource.UNBILLED, None)
    estimated = None
    if result.usage is None:
        estimated = Usage(prompt_tokens, estimate_tokens(result.text))
    cost = pricer.cost(
        price_as or result.model_served or model_asked,
        reported_usd=result.reported_cost_usd,
        usage=result.usage,
        estimated_usage=estimated,
    )
    return AttemptCost(cost.nano_usd, cost.source, result.usage or estimated)


def price_usage(usage: Usage) -> PriceUsage:
    """Our usage in genai-prices' terms (the same meaning: cache and reasoning counts are
    parts of the input and output totals). Parts larger than their total, an inconsistent
    report genai-prices refuses, are dropped: those tokens are charged in full."""
    cached = usage.cache_read_tokens + usage.cache_write_tokens <= usage.input_tokens
    parts = {
        "cache_read_tokens": usage.cache_read_tokens if cached else 0,
        "cache_write_tokens": usage.cache_write_tokens if cached else 0,
        "output_reasoning_tokens": (
            usage.reasoning_tokens if usage.reasoning_tokens <= usage.output_tokens else 0
        ),
    }
    return PriceUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        **{name: count for name, count in parts.items() if count},
    )


@lru_cache(maxsize=4096)
def _genai_price(model: str, usage: Usage) -> int | None:
    provider, _, name = model.rpartition("/")
    counted = price_usage(usage)
    for provider_id in ([provider] if provider else []) + [None]:
        try:
            result = calc_price(counted, name, provider_id=provider_id)
        except LookupError:
            continue
        return to_nano(Decimal(result.total_price))
    log.warning("no price known for model %s", model)
    return None
