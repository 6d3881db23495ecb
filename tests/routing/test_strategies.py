"""Tiered routing: thresholds, overrides, health, Eden's router, calibration, and bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from routing.active import ScorerSlot
from routing.analyzer.scorer import QueryAnalyzer
from routing.calibration import calibrate
from routing.config import (
    DEFAULT_ROUTING_FILE,
    RoutingFileError,
    Thresholds,
    load_routing,
    write_thresholds,
)
from routing.health import ModelHealth
from routing.strategies import AnalyzerJudge, TierChoice, TieredStrategy, keyword_judge
from routing.strategy import RouteRequest

ROUTING = load_routing()
ANALYZER = QueryAnalyzer.load()


def tiered(health: ModelHealth | None = None) -> TieredStrategy:
    judge = AnalyzerJudge(ScorerSlot(ANALYZER), ROUTING)
    return TieredStrategy(judge, ROUTING, health or ModelHealth())


def fixed_judge(tier: str, score: float) -> object:
    return lambda request: TierChoice(tier, score, ("test judge",))  # type: ignore[arg-type]


def test_thresholds_split_scores_into_three_tiers() -> None:
    thresholds = Thresholds(budget_below=0.3, premium_from=0.7)
    assert thresholds.tier_for(0.0) == "budget"
    assert thresholds.tier_for(0.2999) == "budget"
    assert thresholds.tier_for(0.3) == "balanced"
    assert thresholds.tier_for(0.6999) == "balanced"
    assert thresholds.tier_for(0.7) == "premium"
    assert thresholds.tier_for(1.0) == "premium"


def test_overrides_forced_beats_channel_default_and_ceiling_caps_everything() -> None:
    strategy = TieredStrategy(fixed_judge("balanced", 0.5), ROUTING, ModelHealth())  # type: ignore[arg-type]
    assert strategy.decide(RouteRequest("q")).tier == "balanced"
    assert strategy.decide(RouteRequest("q", default_tier="budget")).tier == "budget"
    forced = strategy.decide(RouteRequest("q", forced_tier="premium", default_tier="budget"))
    assert forced.tier == "premium"
    assert forced.models == ROUTING.tiers["premium"]
    capped = strategy.decide(RouteRequest("q", forced_tier="premium", ceiling_tier="budget"))
    assert capped.tier == "budget"
    assert any("budget guard" in reason for reason in capped.reasons)


def test_decision_is_explained_and_timed() -> None:
    decision = tiered().decide(RouteRequest("Why does my webhook return 502?\n```\nTraceback\n```"))
    assert decision.strategy == "tiered"
    assert decision.score is not None and 0 <= decision.score <= 1
    assert decision.reasons
    assert 0 <= decision.decision_us < 50_000
    assert decision.models == ROUTING.tiers[decision.tier]  # type: ignore[index]


def test_thread_aware_follow_ups() -> None:
    hard = (
        "Our SSO login loops for one Azure AD tenant after rotating the SAML signing cert.\n"
        '```\nTraceback (most recent call last):\n  File "sso.py", line 12, in login\n'
        "saml2.response.IncorrectlySigned: signature mismatch\n```"
    )
    alone = ANALYZER.score("still failing").score
    in_hard_thread = ANALYZER.score("still failing", (hard,)).score
    assert in_hard_thread > alone
    assert in_hard_thread >= 0.5 * ANALYZER.score(hard).score
    assert ANALYZER.score("thanks!", (hard,)).score <= 0.1


def test_health_moves_a_failing_model_behind_the_healthy_ones() -> None:
    now = [0.0]
    health = ModelHealth(threshold=2, cooldown_s=30, clock=lambda: now[0])
    pool = ROUTING.tiers["budget"]
    health.record(pool[0], ok=False)
    assert health.order(pool) == pool
    health.record(pool[0], ok=False)
    assert health.order(pool) == (*pool[1:], pool[0])
    now[0] = 31.0
    assert health.order(pool) == pool
    health.record(pool[0], ok=True)
    assert health.healthy(pool[0])


def test_keyword_baseline_is_the_tutorial_heuristic() -> None:
    assert keyword_judge(RouteRequest("What are your hours?")).tier == "budget"
    assert keyword_judge(RouteRequest("please debug this")).tier == "premium"
    assert keyword_judge(RouteRequest(" ".join(["word"] * 31))).tier == "premium"
    assert keyword_judge(RouteRequest("Can I change my plan later?")).tier == "balanced"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "x" * 200_000,
        "🙂" * 5000,
        "```\n" + "def f(x):\n    return x\n" * 3000 + "```",
        "Mon compte est bloqué 私のアカウント my account is locked مرحبا " * 200,
        "a\x00b\ud800c",
    ],
)
def test_bad_input_routes_in_bounded_time(text: str) -> None:
    strategy = tiered()
    started = time.perf_counter()
    decision = strategy.decide(RouteRequest(text, context=(text,)))
    assert time.perf_counter() - started < 0.2
    assert decision.tier in ("budget", "balanced", "premium")


def test_calibration_hits_the_requested_shares() -> None:
    scores = [i / 1000 for i in range(1000)]
    result = calibrate(scores, premium_share=0.2, budget_share=0.5)
    assert result.budget_share == pytest.approx(0.5, abs=0.002)
    assert result.premium_share == pytest.approx(0.2, abs=0.002)
    tied = calibrate([0.0] * 600 + [0.5] * 400, premium_share=0.2, budget_share=0.5)
    assert tied.budget_share == pytest.approx(0.6)  # ties stay together
    with pytest.raises(ValueError):
        calibrate(scores, premium_share=0.7, budget_share=0.5)


def test_calibrated_thresholds_are_written_to_the_routing_file(tmp_path: Path) -> None:
    target = tmp_path / "routing.toml"
    write_thresholds(target, Thresholds(0.25, 0.75))
    loaded = load_routing(target)
    assert loaded.thresholds == Thresholds(0.25, 0.75)
    assert loaded.tiers == load_routing(DEFAULT_ROUTING_FILE).tiers


def test_a_broken_routing_file_names_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "routing.toml"
    bad.write_text('[tiers]\nbudget = []\nbalanced = ["a"]\npremium = ["b"]\n'
                   "[thresholds]\nbudget_below = 0.9\npremium_from = 0.1\n"
                   '[edenai]\ncandidates = ["a"]\n')  # fmt: skip
    with pytest.raises(RoutingFileError, match=r"tiers\.budget"):
        load_routing(bad)


def test_route_jsonl_writes_one_line_per_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.cli.main import main

    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": 1, "text": "What are your hours?"}\nnot json\n{"id": "x", "text": ""}\n'
    )
    assert main(["route", "--jsonl", str(queries)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == [1, 2, "x"]
    assert set(lines[0]) >= {"id", "tier", "model", "score", "reasons", "decision_us"}
    assert "error" in lines[1]
