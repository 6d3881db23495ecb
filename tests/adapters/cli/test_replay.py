"""`switchboard replay`: historical questions through the engine, resumable; or routing only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli import replay
from adapters.cli.main import main
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider

QUESTIONS = [
    {"id": "q1", "text": "How do I reset my password?", "channel": "billing"},
    {"id": "q2", "text": "Why does the export fail with error E42 on large files?", "thread": "t9"},
    {"id": "q3", "text": "And for CSV files?", "thread": "t9"},
]


def write_questions(path: Path, extra: str = "") -> Path:
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n" + extra, encoding="utf-8")
    return path


async def test_replay_answers_each_question_once_even_when_run_again(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, tmp_path: Path
) -> None:
    app = await make_app(sqlite_db, routing_strategy="tiered")
    lines = [q for q in replay.read_lines(write_questions(tmp_path / "q.jsonl"))]
    assert all(isinstance(line, replay.Line) for line in lines)
    first = [await replay.answer(app, line, "replay") for line in lines]  # type: ignore[arg-type]
    assert [r["status"] for r in first] == ["answered"] * 3
    assert all(r["tier"] in ("budget", "balanced", "premium") and r["cost_usd"] for r in first)
    assert all(isinstance(r["score"], float) and r["router_version"] is None for r in first)
    calls = await app.stores.ledger.call_rows(platform="replay")
    assert [c.thread for c in calls] == ["replay-q1", "t9", "t9"]
    # Thread and channel come from the file: q3 is a follow-up in q2's thread.
    assert [m.content for m in provider.requests[-1].messages[1:]] == [
        QUESTIONS[1]["text"], "Here is how to do that: open Settings, then Security.",
        QUESTIONS[2]["text"],
    ]  # fmt: skip
    asked = len(provider.requests)
    again = [await replay.answer(app, line, "replay") for line in lines]  # type: ignore[arg-type]
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert len(provider.requests) == asked, "a resumed replay asks nothing twice"


def test_route_only_prices_each_decision_without_calling_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    path = write_questions(tmp_path / "q.jsonl", extra="not json\n")
    assert main(["replay", str(path), "--route-only", "--output-tokens", "200"]) == 0
    captured = capsys.readouterr()
    results = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["id"] for r in results] == ["q1", "q2", "q3"]
    for result in results:
        assert result["status"] == "routed" and result["tier"] in ("budget", "balanced", "premium")
        assert result["estimated_cost_usd"] > 0 and result["estimated_tokens"]["output"] == 200
    assert "skipped line 4: not JSON" in captured.err
    assert "replayed 3 question(s)" in captured.err
    assert not (tmp_path / "switchboard.db").exists(), "routing only needs no database"


def test_a_missing_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err
