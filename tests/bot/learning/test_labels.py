"""Labels come out in the order the questions came, whatever order their comparisons finished
in, so `router tune` on the same stored labels always decides the same way; each carries its
question's retrieval confidence."""

from __future__ import annotations

import sqlalchemy as sa

from bot.learning.labels import LabelWeights, collect
from storage.knowledge_tables import kb_answers_t
from storage.learning import Comparison, LearningData
from storage.tables import utcnow
from tests.conftest import Database
from tests.rows import call_values, insert_calls, make_thread


def comparison(n: int, thread: tuple[int, int]) -> Comparison:
    """Question `n`'s comparison (its call is the n+1th): premium's shadow beat budget's."""
    thread_id, message_id = thread
    return Comparison(
        call_id=n + 1, thread_id=thread_id, message_id=message_id,
        question=f"question {n}", context=(), answered_tier="budget",
        shadow_tier="premium", shadow_model="m", shadow_call_id=None, judge_call_id=None,
        answered_score=5, shadow_score=9, answered_cost_nano_usd=1,
        shadow_cost_nano_usd=20, router_version=None, router_score=None,
    )  # fmt: skip


async def test_labels_follow_the_questions_not_the_comparisons_finishing_order(
    database: Database,
) -> None:
    engine = database.engine()
    try:
        store = LearningData(engine)
        threads = [await make_thread(engine, external=f"t{n}") for n in range(4)]
        await insert_calls(engine, [call_values(threads[0], utcnow()) for _ in range(4)])
        for n in (2, 0, 3, 1):  # the background comparisons finish out of order
            await store.record_comparison(comparison(n, threads[n]))
        labels = await collect(store, LabelWeights())
        assert [ex.text for ex in labels] == [f"question {n}" for n in range(4)]
    finally:
        await engine.dispose()


async def test_a_label_carries_its_questions_retrieval_confidence(database: Database) -> None:
    """`router tune` learns the retrieval weight from labels: each one reads the knowledge
    base's confidence noted for its question (none when it was never searched)."""
    engine = database.engine()
    try:
        store = LearningData(engine)
        threads = [await make_thread(engine, external=f"t{n}") for n in range(2)]
        await insert_calls(engine, [call_values(threads[0], utcnow()) for _ in range(2)])
        for n, thread in enumerate(threads):
            await store.record_comparison(comparison(n, thread))
        async with engine.begin() as conn:
            await conn.execute(sa.insert(kb_answers_t).values(
                message_id=threads[0][1], created_at=utcnow(), platform="slack",
                workspace="T1", channel="C1", confidence=0.8125, outcome="cited",
            ))  # fmt: skip
        labels = await collect(store, LabelWeights())
        assert [(ex.text, ex.retrieval) for ex in labels] == [("question 0", 0.8125),
                                                              ("question 1", None)]  # fmt: skip
    finally:
        await engine.dispose()
