"""Labels come out in the order the questions came, whatever order their comparisons finished
in, so `router tune` on the same stored labels always decides the same way."""

from __future__ import annotations

from bot.learning.labels import LabelWeights, collect
from storage.learning import Comparison, LearningData
from storage.tables import utcnow
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread


async def test_labels_follow_the_questions_not_the_comparisons_finishing_order(
    database: Database,
) -> None:
    engine = database.engine()
    try:
        store = LearningData(engine)
        threads = [await make_thread(engine, external=f"t{n}") for n in range(4)]
        await insert_calls(engine, [call_values(threads[0], utcnow()) for _ in range(4)])
        for n in (2, 0, 3, 1):  # the background comparisons finish out of order
            thread_id, message_id = threads[n]
            await store.record_comparison(Comparison(
                call_id=n + 1, thread_id=thread_id, message_id=message_id,
                question=f"question {n}", context=(), answered_tier="budget",
                shadow_tier="premium", shadow_model="m", shadow_call_id=None, judge_call_id=None,
                answered_score=5, shadow_score=9, answered_cost_nano_usd=1,
                shadow_cost_nano_usd=20, router_version=None, router_score=None,
            ))  # fmt: skip
        labels = await collect(store, LabelWeights())
        assert [ex.text for ex in labels] == [f"question {n}" for n in range(4)]
    finally:
        await engine.dispose()
