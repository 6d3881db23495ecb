"""The journal of writes an outage keeps from the database (issue 21): on disk before the
caller goes on, adopted once from a dead process, applied once by key however often replayed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from storage import writes
from storage.journal import Journal
from storage.records import CallRecord
from storage.tables import calls_t, messages_t, posts_t, utcnow
from tests.conftest import Database
from tests.rows import make_thread


def record(message: tuple[int, int], key: str = "k1") -> CallRecord:
    return CallRecord(
        thread_id=message[0], message_id=message[1], platform="slack", workspace="T1",
        channel="C1", user="U1", strategy="fixed", model_asked="openai/gpt-4o-mini",
        cost_source="reported", status="ok", attempt=1, cost_nano_usd=143_000,
        created_at=utcnow(), key=key,
    )  # fmt: skip


def lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for p in folder.glob("*.jsonl") for line in p.read_text().splitlines()]


def test_a_kept_write_is_on_disk_until_done(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    first, second = writes.fail(7), writes.fail(8)
    journal.keep(first)
    journal.keep(second)
    assert [item["write"]["key"] for item in lines(tmp_path)] == ["fail:7", "fail:8"]  # type: ignore[index]
    journal.done(first)
    assert lines(tmp_path)[-1] == {"done": "fail:7"}
    journal.done(second)
    assert lines(tmp_path) == []  # none left: emptied
    journal.close()
    assert list(tmp_path.glob("*.jsonl")) == []


def test_a_dead_process_journal_is_adopted_once_and_a_live_one_never(tmp_path: Path) -> None:
    live, dead = Journal(tmp_path), Journal(tmp_path)
    live.keep(writes.fail(1))
    for message_id in (2, 3, 4):
        dead.keep(writes.fail(message_id))
    dead.done(writes.fail(3))
    assert dead.path is not None
    with dead.path.open("a") as f:
        f.write('{"write": {"kind": "fail", "key": "fail:5", "mess')  # died while writing it
    dead.close()  # its process died: the kernel lets go of its lock; its file stays
    restarted = Journal(tmp_path)
    adopted = restarted.adopt()
    assert [w.message_id for w in adopted] == [2, 4]  # not done, not torn, not the live one's
    assert restarted.adopt() == [] and len(list(tmp_path.glob("*.jsonl"))) == 2
    live.close()
    restarted.close()


async def test_a_replayed_write_lands_once_by_its_key(database: Database) -> None:
    engine = database.engine()
    try:
        message = await make_thread(engine, channel="C1", platform="slack")
        async with engine.begin() as conn:  # a question being answered, as the engine stores it
            await conn.execute(sa.update(messages_t).where(messages_t.c.id == message[1])
                               .values(state="received", owner="owner-1"))  # fmt: skip
        kept = [
            writes.begin(message[1], "owner-1", "{}", utcnow() + timedelta(seconds=30)),
            writes.call(record(message), "The answer."),
            writes.finish(message[1], "slack", ["C1:1.1"], "k1"),
            writes.fail(message[1]),  # a late "failed" never overrides the answer
        ]
        for _ in range(3):  # the outage's retries, then a replay after a crash, twice
            for write in kept:
                async with engine.begin() as conn:
                    await conn.run_sync(writes.apply, write, again=True)
        async with engine.connect() as conn:
            calls = (await conn.execute(sa.select(calls_t))).all()
            state = await conn.scalar(sa.select(messages_t.c.state).where(
                messages_t.c.id == message[1]))  # fmt: skip
            posts = (await conn.execute(sa.select(posts_t))).all()
        assert len(calls) == 1 and calls[0].cost_nano_usd == 143_000 and calls[0].answer_id
        assert state == "answered" and len(posts) == 1
    finally:
        await engine.dispose()
