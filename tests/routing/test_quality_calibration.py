"""Tier thresholds from a quality target, on shadow comparisons (router score, two judge scores)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from adapters.cli.main import main
from routing.calibration import ShadowComparison, thresholds_for_quality, wilson


def _comparisons(n: int, seed: int = 0) -> list[ShadowComparison]:
    """Below score 0.4 the budget answer is as good as premium; above 0.7 it falls short by 3+
    points; in between half the time. Costs: budget 1, premium 20."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        score = rng.random()
        premium = 9.0
        if score < 0.4:
            cheap = 9.0 - rng.choice([0, 0, 0, 1])
        elif score < 0.7:
            cheap = rng.choice([9.0, 5.0])
        else:
            cheap = 5.0
        out.append(ShadowComparison(score, cheap, premium, 1_000, 20_000))
    return out


def test_budget_band_meets_the_quality_target_and_premium_takes_the_failures() -> None:
    result = thresholds_for_quality(_comparisons(1000), within=1.0, target=0.9)
    assert result.thresholds is not None
    assert 0.4 <= result.thresholds.budget_below <= 0.5
    assert result.budget_within >= 0.9
    low, high = result.budget_within_interval
    assert low <= result.budget_within <= high
    assert 0.6 <= result.thresholds.premium_from <= 0.72
    assert result.budget_share + result.balanced_share + result.premium_share == pytest.approx(1.0)
    # Budget ~45% of questions at 1/20 of premium's cost; balanced counted at premium cost.
    assert result.expected_savings == pytest.approx(result.budget_share * 0.95, abs=1e-9)
    cheaper = thresholds_for_quality(_comparisons(1000), balanced_cost_ratio=0.5)
    assert cheaper.expected_savings is not None and result.expected_savings is not None
    assert cheaper.expected_savings > result.expected_savings


def test_a_stricter_target_shrinks_the_budget_band() -> None:
    loose = thresholds_for_quality(_comparisons(1000), target=0.8)
    strict = thresholds_for_quality(_comparisons(1000), target=0.99)
    assert loose.thresholds and strict.thresholds
    assert strict.budget_share < loose.budget_share


def test_not_enough_data_says_so() -> None:
    result = thresholds_for_quality(_comparisons(40), min_comparisons=100)
    assert result.thresholds is None
    assert result.reason == "not enough data: 40 shadow comparisons (need 100)"


def test_no_costs_no_savings_figure_and_fallback_premium() -> None:
    # The budget answer is always fine: everything is budget, premium never pays off.
    fine = [ShadowComparison(i / 200, 8.0, 8.0) for i in range(200)]
    result = thresholds_for_quality(fine, fallback_premium_from=0.9)
    assert result.thresholds is not None and result.budget_share == 1.0
    assert result.expected_savings is None


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(90, 100)
    assert 0.82 < low < 0.9 < high < 0.95


def test_calibrate_command_from_comparisons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ROUTING_FILE", raising=False)
    lines = [json.dumps(vars(c)) for c in _comparisons(300)]
    (tmp_path / "shadow.jsonl").write_text("\n".join(lines) + "\n")
    argv = ["router", "calibrate", "--comparisons", "shadow.jsonl", "--dry-run"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["comparisons"] == 300 and report["budget_within"] >= 0.9
    assert report["budget_below"] < report["premium_from"]
    (tmp_path / "few.jsonl").write_text("\n".join(lines[:10]) + "\n")
    assert main(["router", "calibrate", "--comparisons", "few.jsonl", "--dry-run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "switchboard: router calibrate: not enough data: 10 shadow comparisons (need 100)"
    ]
