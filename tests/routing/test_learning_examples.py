"""Labelled examples: validation, labels from signals and comparisons, the split key."""

from __future__ import annotations

import pytest

from routing.learning import (
    DEFAULT_WEIGHTS,
    LabelledExample,
    example_from_comparison,
    example_from_signal,
    judge_quality,
)
from routing.learning.keys import split_key, stem


def test_values_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown label kind"):
        LabelledExample("q", kind="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs_premium"):
        LabelledExample("q", needs_premium=1.5)
    with pytest.raises(ValueError, match="weight"):
        LabelledExample("q", weight=float("nan"))
    with pytest.raises(ValueError, match="cheap_cost_nano"):
        LabelledExample("q", cheap_cost_nano=-1)


def test_signals_carry_the_default_label_and_weight() -> None:
    escalated = example_from_signal("why is my card declined?", "escalation")
    assert (escalated.needs_premium, escalated.weight) == (1.0, DEFAULT_WEIGHTS["escalation"])
    solved = example_from_signal("how do I reset my PIN?", "solved", context=("hi",))
    assert (solved.needs_premium, solved.weight, solved.context) == (0.0, 0.3, ("hi",))
    assert solved.qualities == (1.0, 1.0)  # the cheap answer was good enough
    assert escalated.qualities == (0.0, 1.0)
    with pytest.raises(ValueError):
        example_from_signal("q", "shadow")


def test_comparison_label_grows_with_premiums_lead() -> None:
    def label(cheap: int, premium: int) -> float:
        ex = example_from_comparison("q", judge_quality(cheap), judge_quality(premium))
        return ex.needs_premium

    assert label(8, 8) == 0.0
    assert label(9, 8) == 0.0
    assert label(7, 8) == pytest.approx(1 / 3)
    assert label(5, 8) == pytest.approx(1.0)
    assert label(2, 9) == 1.0
    judged = example_from_comparison("q", 0.5, 0.9)
    assert judged.judged and judged.qualities == (0.5, 0.9)


def test_split_key_ignores_case_punctuation_order_and_inflection() -> None:
    assert stem("arrived") == "arriv" and stem("arriving") == "arriv" and stem("is") == "is"
    a = "My card hasn't arrived yet. Why?"
    for variant in ("my card hasn't arrived yet, why", "WHY hasn't my card arrived yet???",
                    "why my cards hasn't arrive yet"):  # fmt: skip
        assert split_key(variant) == split_key(a)
