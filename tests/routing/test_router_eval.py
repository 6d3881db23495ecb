from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cli.commands.router import heldout_prompts, scorers
from routing.analyzer.scorer import QueryAnalyzer
from routing.keyword import keyword_score, keyword_tier
from routing.training.datasets import load_support
from routing.training.evaluation import (
    LabelledPrompt,
    RouterMetrics,
    apgr,
    auc,
    cpt,
    evaluate,
    quality_curve,
    support_metrics,
)

# One prompt only the strong model gets right, hidden among prompts both get right.
ONE_HARD = ([0.0] + [1.0] * 99, [1.0] * 100)


def test_perfect_router_recovers_almost_everything() -> None:
    weak, strong = ONE_HARD
    scores = [1.0] + [0.0] * 99
    assert apgr(scores, weak, strong) == pytest.approx(1.0, abs=0.01)
    assert cpt(scores, weak, strong, 0.5) == pytest.approx(0.005)


def test_reverse_router_recovers_almost_nothing() -> None:
    weak, strong = ONE_HARD
    scores = [0.0] + [1.0] * 99
    assert apgr(scores, weak, strong) == pytest.approx(0.0, abs=0.01)
    assert cpt(scores, weak, strong, 0.8) > 0.99


def test_constant_scores_count_as_random_routing() -> None:
    # All tied: the expected curve under random tie-breaking is the diagonal.
    weak, strong = ONE_HARD
    assert apgr([0.5] * 100, weak, strong) == pytest.approx(0.5)
    assert cpt([0.5] * 100, weak, strong, 0.5) == pytest.approx(0.5)


def test_curve_on_hand_example() -> None:
    weak = [0.0, 1.0, 0.0]
    strong = [1.0, 1.0, 1.0]
    curve = quality_curve([0.9, 0.1, 0.5], weak, strong)
    assert curve == pytest.approx([1 / 3, 2 / 3, 1.0, 1.0])
    # PGR at k = 0..3 is 0, 0.5, 1, 1: trapezoid mean = (0.25 + 0.75 + 1) / 3.
    assert apgr([0.9, 0.1, 0.5], weak, strong) == pytest.approx(2 / 3)


def test_weak_better_prompts_sent_strong_lose_quality() -> None:
    weak = [1.0, 0.0, 0.0]
    strong = [0.0, 1.0, 1.0]
    assert quality_curve([1.0, 0.0, 0.0], weak, strong)[1] == pytest.approx(0.0)


def test_apgr_rejects_sets_where_strong_is_not_better() -> None:
    with pytest.raises(ValueError):
        apgr([0.1, 0.2], [1.0, 1.0], [1.0, 1.0])


def test_auc_with_ties() -> None:
    assert auc([0.9, 0.1], [1.0, 0.0]) == 1.0
    assert auc([0.1, 0.9], [1.0, 0.0]) == 0.0
    assert auc([0.5, 0.5], [1.0, 0.0]) == 0.5


def test_keyword_tiers() -> None:
    assert keyword_tier("What are your opening hours?") == "budget"
    assert keyword_tier("Can you debug this for me") == "premium"
    assert keyword_tier(" ".join(["word"] * 31)) == "premium"
    assert keyword_tier("Tell me about the new plan") == "balanced"
    assert [keyword_score(t) for t in ("price?", "hello there", "troubleshoot")] == [0.0, 0.5, 1.0]


def test_evaluate_groups_per_benchmark_and_overall() -> None:
    prompts = [
        LabelledPrompt("hard maths", "gsm8k", 0.0, 1.0, True),
        LabelledPrompt("easy maths", "gsm8k", 1.0, 1.0, False),
        LabelledPrompt("hard fact", "mmlu", 0.0, 1.0, True),
    ]
    table = evaluate(prompts, {"oracle": lambda ts: [1.0 if "hard" in t else 0.0 for t in ts]})
    assert set(table) == {"gsm8k", "mmlu", "overall"}  # sets without prompts are left out
    assert isinstance(table["overall"]["oracle"], RouterMetrics)
    assert table["overall"]["oracle"].n == 3


@pytest.fixture(scope="module")
def heldout_table(data_dir: Path) -> dict[str, dict[str, RouterMetrics]]:
    prompts = heldout_prompts(data_dir, seed=0)
    return evaluate(prompts, scorers(QueryAnalyzer.load(), seed=0))


def test_learned_analyzer_beats_baselines_on_heldout(
    heldout_table: dict[str, dict[str, RouterMetrics]],
) -> None:
    overall = heldout_table["overall"]
    # The target is 0.70; the shipped model reaches ~0.68 (docs/routing.md). This floor
    # catches regressions without pretending the target is met.
    assert overall["learned"].apgr >= 0.66
    assert heldout_table["mmlu"]["learned"].apgr >= 0.66
    assert overall["learned"].apgr >= overall["keyword"].apgr + 0.08
    assert overall["learned"].cpt50 < overall["keyword"].cpt50


def test_baselines_sit_near_random(heldout_table: dict[str, dict[str, RouterMetrics]]) -> None:
    overall = heldout_table["overall"]
    assert 0.4 <= overall["keyword"].apgr <= 0.6
    assert 0.4 <= overall["random"].apgr <= 0.6


def test_support_metrics_on_hand_example() -> None:
    prompts = [
        LabelledPrompt("hard one", "support", 0.0, 1.0, True, "support_hard"),
        LabelledPrompt("hard two", "support", 0.0, 1.0, True, "support_hard"),
        LabelledPrompt("easy one", "support", 1.0, 1.0, False, "support_easy"),
        LabelledPrompt("easy two", "support", 1.0, 1.0, False, "support_easy"),
        LabelledPrompt("medium", "support", 0.5, 1.0, False, "support_medium"),
    ]
    scores = {"hard one": 0.9, "hard two": 0.2, "easy one": 0.1, "easy two": 0.3, "medium": 1.0}
    result = support_metrics(prompts, lambda ts: [scores[t] for t in ts])
    assert (result.n_hard, result.n_easy) == (2, 2)
    assert result.auc == pytest.approx(0.75)
    assert result.hard_above_easy_median == pytest.approx(0.5)


def test_support_heldout_ordering() -> None:
    # Held-out 30% of routing/training/data/support_labelled.jsonl; measured 0.967 AUC / 96%
    # above the easy median when the model was trained (docs/routing.md).
    # Floors = measured minus a margin.
    prompts = [
        LabelledPrompt(
            ex.text, ex.source, ex.weak_quality, ex.strong_quality, ex.label > 0.5, ex.group
        )
        for ex in load_support()
        if ex.heldout
    ]
    result = support_metrics(prompts, scorers(QueryAnalyzer.load(), seed=0)["learned"])
    assert result.n_hard >= 20 and result.n_easy >= 20
    assert result.auc >= 0.92
    assert result.hard_above_easy_median >= 0.85
