"""What shadow comparisons cost per 1,000 questions, at list prices, for the bundled tiers.

Each shadowed question costs one more answer (by premium's first model for a budget or
balanced answer, by budget's first model for a premium one) plus one judge request that reads
the question and both answers. Token counts are assumptions, printed with the result.

    .venv/bin/python bench/shadow_cost.py [--rate 0.05] [--judge MODEL] [--premium-share 0.2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.llm.pricing import Pricer
from bot.llm.types import Usage
from routing.config import load_routing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=0.05, help="SHADOW_SAMPLE_RATE")
    parser.add_argument("--judge", default="openai/gpt-4o-mini", help="JUDGE_MODEL")
    parser.add_argument("--premium-share", type=float, default=0.2,
                        help="share of questions the router sends to premium")  # fmt: skip
    parser.add_argument("--prompt-tokens", type=int, default=600, help="question + history")
    parser.add_argument("--answer-tokens", type=int, default=350)
    args = parser.parse_args()
    tiers = load_routing().tiers
    pricer = Pricer()
    answer = Usage(args.prompt_tokens, args.answer_tokens)
    judge = Usage(args.prompt_tokens + 2 * args.answer_tokens + 120, 40)

    def usd(model: str, usage: Usage) -> float:
        nano = pricer.price(model, usage)
        if nano is None:
            raise SystemExit(f"no list price for {model}")
        return nano / 1e9

    premium_shadow = usd(tiers["premium"][0], answer)  # shadow of a budget/balanced answer
    budget_shadow = usd(tiers["budget"][0], answer)  # shadow of a premium answer
    judged = usd(args.judge, judge)
    per_shadow = (1 - args.premium_share) * premium_shadow + args.premium_share * budget_shadow
    per_1000 = 1000 * args.rate * (per_shadow + judged)
    print(f"tiers: premium {tiers['premium'][0]}, budget {tiers['budget'][0]}; judge {args.judge}")
    print(f"assumed tokens: answer {answer.input_tokens} in / {answer.output_tokens} out; "
          f"judge {judge.input_tokens} in / {judge.output_tokens} out")  # fmt: skip
    print(f"one shadow answer: ${per_shadow:.5f} (premium ${premium_shadow:.5f}, budget "
          f"${budget_shadow:.5f}); one judgement: ${judged:.5f}")  # fmt: skip
    print(f"shadow rate {args.rate:g}: {1000 * args.rate:.0f} comparisons and "
          f"${per_1000:.2f} per 1,000 questions")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
