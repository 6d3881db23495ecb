"""`switchboard router tune | versions | use` and `router calibrate --shadow`, as a user runs
them against a database holding shadow comparisons."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from adapters.cli.main import main
from storage.database import create_engine
from storage.learning import Comparison, LearningData
from tests.rows import make_thread

TOPICS = ("password reset", "invoice download", "API rate limits", "SSO certificate rotation")


async def seed(path: Path, count: int, template: Path) -> None:
    shutil.copyfile(template, path)  # a migrated database (tests/conftest.py)
    db = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        store = LearningData(db)
        thread = await make_thread(db)
        from storage.tables import utcnow
        from tests.rows import call_values, insert_calls

        await insert_calls(db, [call_values(thread, utcnow()) for _ in range(count)])
        for n in range(count):
            topic = TOPICS[n % len(TOPICS)]
            hard = n % len(TOPICS) >= 2  # the last two topics need premium
            await store.record_comparison(Comparison(
                call_id=n + 1, thread_id=thread[0], message_id=thread[1],
                question=f"Question {n}: how does {topic} work for my account?", context=(),
                answered_tier="budget", shadow_tier="premium", shadow_model="m",
                shadow_call_id=None, judge_call_id=None,
                answered_score=4 if hard else 9, shadow_score=9,
                answered_cost_nano_usd=1_000, shadow_cost_nano_usd=20_000,
                router_version=None, router_score=None,
            ))  # fmt: skip
    finally:
        await db.dispose()


@pytest.fixture
def deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    asyncio.run(seed(tmp_path / "switchboard.db", 160, sqlite_template))
    return tmp_path


def test_tune_versions_use_and_rollback(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["router", "tune", "--json"]) == 0
    tuned = json.loads(capsys.readouterr().out)
    assert tuned["version"] == 1 and tuned["labels"] == 160
    assert tuned["used"] == {"shadow": 160} and 0 < tuned["questions"] <= 160
    # No knowledge base was searched for these questions: no retrieval weight to learn.
    assert (tuned["retrieval_weight"], tuned["labels_with_retrieval"]) == (0.0, 0)
    assert main(["router", "versions"]) == 0
    listing = capsys.readouterr().out
    active = "* 1 " if tuned["adopted"] else "* base"
    assert active in listing, listing
    assert main(["router", "use", "base"]) == 0
    assert "the shipped analyzer" in capsys.readouterr().out
    assert main(["router", "versions", "--json"]) == 0
    assert not any(v["active"] for v in json.loads(capsys.readouterr().out))
    assert main(["router", "use", "7"]) == 2
    assert "no router version 7" in capsys.readouterr().err
    assert main(["router", "use", "newest"]) == 2


async def _refused_copy(url: str) -> int:
    """A second version with version 1's model that the guard did not adopt."""
    db = create_engine(url)
    try:
        store = LearningData(db)
        first = await store.version(1)
        assert first is not None
        return await store.add_version(base=first.base, model=first.model, metrics="{}",
                                       data="{}", adopted=False, reason="kept the current model: "
                                       "no gain", activate=False)  # fmt: skip
    finally:
        await db.dispose()


def test_tune_prints_the_interval_and_a_refused_version_needs_force(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["router", "tune"]) == 0
    shown = capsys.readouterr().out
    assert "labels: 160; used 160 shadow (" in shown
    assert "APGR gain, out of fold: " in shown and "(95% interval)" in shown
    refused = asyncio.run(_refused_copy(f"sqlite+aiosqlite:///{deployment / 'switchboard.db'}"))
    assert main(["router", "use", str(refused)]) == 2
    err = capsys.readouterr().err
    assert f"router version {refused} was not adopted" in err and "--force" in err
    assert "Traceback" not in err
    assert main(["router", "use", str(refused), "--force"]) == 0
    assert f"version {refused}" in capsys.readouterr().out
    assert main(["router", "versions", "--json"]) == 0
    assert [v["id"] for v in json.loads(capsys.readouterr().out) if v["active"]] == [refused]


def test_calibrate_from_the_stored_shadow_comparisons(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["router", "calibrate", "--shadow", "--target", "0.9", "--dry-run"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["comparisons"] == 160 and report["routing_file"] is None
    assert 0 <= report["budget_below"] <= report["premium_from"] <= 1
    assert report["expected_savings"] is not None


def test_every_router_command_reads_the_database_named_on_the_command_line(
    deployment: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    sqlite_template: Path,
) -> None:
    """`--database` wins over DATA_DIR's default file: the labels live only in the other file."""
    other = tmp_path_factory.mktemp("elsewhere") / "prod.db"
    asyncio.run(seed(other, 120, sqlite_template))
    assert main(["router", "tune", "--json", "--database", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["labels"] == 120
    assert main(["router", "versions", "--json", "--database", str(other)]) == 0
    assert [v["id"] for v in json.loads(capsys.readouterr().out)] == [1]
    assert main(["router", "versions", "--json"]) == 0  # the default file has no versions yet
    assert json.loads(capsys.readouterr().out) == []
    assert main(["router", "use", "base", "--database", str(other)]) == 0
    capsys.readouterr()
    argv = ["router", "calibrate", "--shadow", "--dry-run", "--database", str(other)]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["comparisons"] == 120


def test_calibrate_writes_only_json_on_stdout(
    deployment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = deployment / "tuned.toml"
    assert main(["router", "calibrate", "--shadow", "--routing-file", str(target)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["routing_file"] == str(target)  # stdout parses as one JSON document
    assert f"Set ROUTING_FILE={target}" in err and target.exists()
