"""Cost: reported > priced > estimated > unpriced, in exact integer nano-dollars."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.llm.pricing import (
    CostSource,
    ModelPrice,
    Pricer,
    estimate_tokens,
    price_attempt,
    to_nano,
)
from bot.llm.types import StreamResult, Usage

USAGE = Usage(input_tokens=1200, output_tokens=300)


def test_reported_cost_wins_over_everything() -> None:
    cost = Pricer().cost(
        "openai/gpt-4o", reported_usd=Decimal("0.0042"), usage=USAGE, estimated_usage=USAGE
    )
    assert (cost.nano_usd, cost.source) == (4_200_000, CostSource.REPORTED)


def test_reported_usage_is_priced_with_genai_prices() -> None:
    cost = Pricer().cost("openai/gpt-4o", reported_usd=None, usage=USAGE, estimated_usage=USAGE)
    # gpt-4o: $2.50 in / $10.00 out per million tokens.
    assert (cost.nano_usd, cost.source) == (1200 * 2500 + 300 * 10_000, CostSource.PRICED)


def test_estimate_only_when_nothing_was_reported() -> None:
    cost = Pricer().cost("openai/gpt-4o-mini", reported_usd=None, usage=None,
                         estimated_usage=USAGE)  # fmt: skip
    assert (cost.nano_usd, cost.source) == (1200 * 150 + 300 * 600, CostSource.ESTIMATED)


def test_unknown_model_is_unpriced_never_zero() -> None:
    pricer = Pricer()
    assert pricer.price("acme/in-house-llm", USAGE) is None
    for usage, estimated in ((USAGE, None), (None, USAGE), (None, None)):
        cost = pricer.cost("acme/in-house-llm", reported_usd=None, usage=usage,
                           estimated_usage=estimated)  # fmt: skip
        assert cost.nano_usd is None
        assert cost.source is CostSource.UNPRICED
    assert pricer.cost(None, reported_usd=None, usage=USAGE).nano_usd is None


def test_configured_price_overrides_genai_prices() -> None:
    pricer = Pricer({"acme/in-house-llm": ModelPrice(Decimal("0.2"), Decimal("0.8"))})
    cost = pricer.cost("acme/in-house-llm", reported_usd=None, usage=USAGE)
    assert (cost.nano_usd, cost.source) == (1200 * 200 + 300 * 800, CostSource.PRICED)


def test_nano_dollars_are_exact_and_rounded_half_up() -> None:
    assert to_nano(Decimal("0.000123456789")) == 123457
    assert to_nano(Decimal("0.0000000005")) == 1
    assert to_nano(Decimal("0.0000000004999")) == 0
    assert to_nano(Decimal("12345.678901234")) == 12_345_678_901_234  # past 2^31 and 2^32
    # Eden sends a float; its decimal text is what we keep, not the binary expansion.
    assert to_nano(Decimal(str(0.000123456789))) == 123457


def test_free_reported_cost_stays_zero_and_reported() -> None:
    cost = Pricer().cost("openai/gpt-4o", reported_usd=Decimal(0), usage=USAGE)
    assert (cost.nano_usd, cost.source) == (0, CostSource.REPORTED)


def test_gpt_4o_mini_single_output_token_is_below_a_micro_dollar() -> None:
    # Why nano-dollars: micro-dollars would round this token to 1 (or 0).
    assert Pricer().price("openai/gpt-4o-mini", Usage(0, 1)) == 600


def test_token_estimate() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("x" * 4000) == 1000


# --- cached and reasoning tokens (issue 11: cached prompt tokens were priced as full input) ---


def test_cached_prompt_tokens_are_priced_at_the_cache_rate() -> None:
    # The example: gpt-4o, 2,000 prompt tokens of which 1,500 cached, 100 output.
    # $2.50/M input, $1.25/M cached input, $10/M output.
    cached = Pricer().price("openai/gpt-4o", Usage(2000, 100, cache_read_tokens=1500))
    assert cached == 500 * 2500 + 1500 * 1250 + 100 * 10_000 == 4_125_000
    full = Pricer().price("openai/gpt-4o", Usage(2000, 100))
    assert full == 6_000_000  # what every such call was charged before
    assert round((full - cached) / cached * 100, 1) == 45.5  # the over-charge that is gone


def test_reasoning_tokens_are_output_tokens_at_the_models_rate() -> None:
    # o4-mini ($1.10/M in, $4.40/M out): 2,500 of 3,000 completion tokens were reasoning.
    # OpenAI counts reasoning inside completion_tokens and bills it as output.
    usage = Usage(1000, 3000, reasoning_tokens=2500)
    assert Pricer().price("openai/o4-mini", usage) == 1000 * 1100 + 3000 * 4400 == 14_300_000
    # A model with its own reasoning price: Perplexity's sonar-deep-research ($2/M in,
    # $8/M out, $3/M reasoning) was charged 26,000,000 when reasoning went at the output rate.
    assert (
        Pricer().price("perplexity/sonar-deep-research", usage)
        == (1000 * 2000 + 500 * 8000 + 2500 * 3000)
        == 13_500_000
    )


def test_anthropic_cache_writes_and_reads_have_their_own_prices() -> None:
    # claude-sonnet-4-5: $3/M input, $3.75/M cache write (5 min), $0.30/M cache read, $15/M out.
    # First call writes 8,000 of its 10,000 prompt tokens to the cache, the next one reads them.
    write = Usage(10_000, 500, cache_write_tokens=8000)
    read = Usage(10_000, 500, cache_read_tokens=8000)
    pricer = Pricer()
    assert (
        pricer.price("anthropic/claude-sonnet-4-5", write)
        == (2000 * 3000 + 8000 * 3750 + 500 * 15_000)
        == 43_500_000
    )
    assert (
        pricer.price("anthropic/claude-sonnet-4-5", read)
        == (2000 * 3000 + 8000 * 300 + 500 * 15_000)
        == 15_900_000
    )
    assert pricer.price("anthropic/claude-sonnet-4-5", Usage(10_000, 500)) == 37_500_000


def test_reported_cost_wins_over_cache_aware_pricing() -> None:
    # OpenRouter's usage.cost (or Eden's cost) is what the account was charged: it wins.
    result = StreamResult("answer", "openai/gpt-4o", Usage(2000, 100, cache_read_tokens=1500),
                          Decimal("0.00412"), 100, 900)  # fmt: skip
    cost = price_attempt(Pricer(), "openai/gpt-4o", result, prompt_tokens=0)
    assert (cost.nano_usd, cost.source) == (4_120_000, CostSource.REPORTED)
    assert cost.usage is not None and cost.usage.cache_read_tokens == 1500
    unreported = price_attempt(Pricer(), "openai/gpt-4o", replace(result, reported_cost_usd=None),
                               prompt_tokens=0)  # fmt: skip
    assert (unreported.nano_usd, unreported.source) == (4_125_000, CostSource.PRICED)


def test_inconsistent_parts_are_charged_in_full_not_refused() -> None:
    # More cached than prompt tokens, more reasoning than output: genai-prices raises on
    # these; we price the totals at the full rate instead (never under-state a cost).
    pricer = Pricer()
    assert pricer.price("openai/gpt-4o", Usage(100, 10, cache_read_tokens=200)) == 350_000
    assert pricer.price("openai/gpt-4o", Usage(100, 10, reasoning_tokens=50)) == 350_000
    assert pricer.price("openai/gpt-4o", Usage(100, 10)) == 100 * 2500 + 10 * 10_000
