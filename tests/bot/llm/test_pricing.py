"""Cost: reported > priced > estimated > unpriced, in exact integer nano-dollars."""

from __future__ import annotations

from decimal import Decimal

from bot.llm.pricing import CostSource, ModelPrice, Pricer, estimate_tokens, to_nano
from bot.llm.types import Usage

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
