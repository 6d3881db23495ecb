from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.experiments.judge import JUDGE_PROMPT, parse_score, sampled
from storage.experiments import ExperimentData
from storage.tables import calls_t, judgements_t
from tests.bot.experiments.helpers import ask, fixed_ab, routing_file
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted

JUDGE_MODEL = "anthropic/claude-haiku-4-5"


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Score: 8\nClear and correct.", 8),
        ("**Score:** 7.5 - mostly right", 8),
        ("I'd give it 6/10 because it misses the refund step.", 6),
        ("score of 10 out of 10", 10),
        ("9. Accurate and concise.", 9),
        ("Score: 0", None),
        ("Score: 42", None),
        ("The answer is fine.", None),
    ],
)
def test_scores_are_parsed_robustly(text: str, score: int | None) -> None:
    assert parse_score(text) == score


def test_sampling_is_deterministic_and_near_the_rate() -> None:
    picks = [sampled(i, 0.2) for i in range(1, 20_001)]
    assert abs(sum(picks) / len(picks) - 0.2) < 0.01
    assert picks == [sampled(i, 0.2) for i in range(1, 20_001)]
    assert not any(sampled(i, 0.0) for i in range(1000))
    assert all(sampled(i, 1.0) for i in range(1000))


async def test_sampled_answers_get_a_judgement_and_a_judge_call_outside_variant_cost(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider, tmp_path: Path
) -> None:
    # The judge model stalls 1.5 s on its first request, then says "Score: 8" every time.
    verdict = "Score: 8\nClear, correct and complete."
    provider.enqueue(
        Scripted(text=verdict, model=JUDGE_MODEL, chunks=1, delay_s=1.5),
        Scripted(text=verdict, model=JUDGE_MODEL, repeat=100),
    )
    app = await make_app(
        sqlite_db,
        routing_file=routing_file(tmp_path, fixed_ab()),
        judge_model=JUDGE_MODEL,
        judge_sample_rate=0.5,
    )
    assert app.judge is not None
    # The judge never delays a reply: its model stalls 1.5 s before the first token...
    for i in range(16):
        started = time.perf_counter()
        assert (await ask(app, f"t{i}", f"How do I change plan {i}?", f"e{i}")).status == "answered"
        assert time.perf_counter() - started < 1.0  # ...yet every answer came back sooner
    await app.judge.drain()
    async with app.stores.db.connect() as conn:
        calls = (await conn.execute(sa.select(calls_t).order_by(calls_t.c.id))).all()
        judgements = (await conn.execute(sa.select(judgements_t))).all()
    answers = [c for c in calls if c.purpose == "answer"]
    judges = {c.id: c for c in calls if c.purpose == "judge"}
    expected = {c.id for c in answers if sampled(c.id, 0.5)}
    assert 0 < len(expected) < len(answers)
    assert {j.call_id for j in judgements} == expected
    for judgement in judgements:
        assert judgement.score == 8
        judge_call = judges[judgement.judge_call_id]
        assert judge_call.model_asked == JUDGE_MODEL and judge_call.strategy == "judge"
        assert judge_call.cost_nano_usd and judge_call.cost_nano_usd > 0
        assert judge_call.experiment is None
    assert len(judges) == len(expected)
    # The judge's own cost is recorded, and kept out of the variants' cost.
    data: ExperimentData = app.stores.experiments
    rows = await data.thread_stats("ab")
    assert sum(r.cost_nano_usd for r in rows) == sum(c.cost_nano_usd for c in answers)
    assert sum(r.judge_count for r in rows) == len(expected)
    assert await data.judge_cost("ab") == (
        len(judges),
        sum(c.cost_nano_usd for c in judges.values()),
    )
    # The judge's request carried the question and the stored answer.
    judge_requests = [r for r in provider.requests if r.model == JUDGE_MODEL]
    assert judge_requests[0].messages[0].content == JUDGE_PROMPT
    assert "QUESTION:\nHow do I change plan" in judge_requests[0].messages[1].content
