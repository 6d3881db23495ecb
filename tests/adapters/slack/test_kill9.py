"""The most honest crash test (issue 13): `switchboard run` is killed with SIGKILL while it
streams an answer into a Slack thread, and the moment it acknowledges a second question
(issue 21), then the bot is started again. It finds both unanswered questions by itself and
each thread ends with exactly one complete answer, with one ledger row per request the LLM
received.

Everything is real but local: the Slack Web API stand-in, signed Events API requests over
HTTP, the LLM simulator over HTTP, a SQLite file. Starting `switchboard run` costs seconds
(imports, migrations; far more when the machine is loaded), so this is the only test that
starts one; the other crash stages are emulated in-process (test_crash_recovery.py).
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.llm.simulator import LLMSimulator
from storage.database import create_engine
from storage.tables import calls_t, messages_t
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers
from tests.adapters.slack.running import (
    MODEL,
    SECRET,
    SLOW,
    acked,
    bot_env,
    free_port,
    restart,
    start_bot,
    until,
)
from tests.conftest import Database, MakeApp
from tests.http import http_client


@pytest.fixture
async def simulator() -> AsyncIterator[LLMSimulator]:
    async with LLMSimulator(seed=3, profiles={MODEL: SLOW}, speed=1.0) as sim:
        yield sim


async def test_kill_9_mid_stream_then_restart_answers_once(
    tmp_path: Path, fake_slack: FakeSlack, simulator: LLMSimulator, make_app: MakeApp
) -> None:
    db_path = tmp_path / "switchboard.db"
    port = free_port()
    env = bot_env(tmp_path, f"sqlite+aiosqlite:///{db_path}", port, fake_slack, simulator)
    log = tmp_path / "bot.log"
    engine = create_engine(f"sqlite+aiosqlite:///{db_path}")

    async def checkpointed() -> bool:
        if not db_path.exists():
            return False
        async with engine.connect() as conn:
            found = await conn.scalar(sa.select(messages_t.c.checkpoint).where(
                messages_t.c.checkpoint.is_not(None)))  # fmt: skip
        return found is not None

    first = await start_bot(env, tmp_path, log)
    try:
        body = json.dumps(envelope(mention("Explain how key rotation works", "900.000100")))
        async with http_client() as client:
            response = await client.post(f"http://127.0.0.1:{port}/slack/events", content=body,
                                         headers=signed_headers(body, secret=SECRET))  # fmt: skip
        assert response.status_code == 200

        async def streaming() -> bool:
            return bool(fake_slack.named("chat.appendStream")) and await checkpointed()

        await until(streaming, 30, "the answer to start streaming", log)
        # A second question, and kill -9 the moment its 200 arrives (issue 21 item 3): Slack
        # never delivers an acknowledged event again, so it must be stored by then.
        second = json.dumps(envelope(mention("Where is the audit log?", "900.000200")))
        status = await acked(port, second, signed_headers(second, secret=SECRET), first)
    finally:
        first.send_signal(signal.SIGKILL)  # no cleanup code of ours runs
        await first.wait()
    assert status.startswith(b"HTTP/1.1 200")
    assert not fake_slack.named("chat.stopStream")  # it really died mid-stream
    simulator.speed = 0.0  # the second answer need not be slow

    # The restart runs in this process through the same composition root and `switchboard
    # run` service (its start-up recovery included): a second subprocess would add its
    # start-up time (several seconds here) and prove nothing more than the first one did.
    _, serving = await restart(make_app, Database("sqlite", env["DATABASE_URL"], None), env,
                               simulator)  # fmt: skip
    try:

        async def answered() -> bool:
            async with engine.connect() as conn:
                states = (await conn.scalars(sa.select(messages_t.c.state).where(
                    messages_t.c.role == "user"))).all()  # fmt: skip
            return list(states) == ["answered", "answered"]

        await until(answered, 30, "the restarted bot to answer both questions", log)
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)

    async with engine.connect() as conn:
        # The answers' rows: `run`'s start-up check of the key is on the ledger too (purpose
        # "check"), as the provider bills it.
        calls = list((await conn.execute(sa.select(calls_t).where(
            calls_t.c.purpose == "answer").order_by(calls_t.c.id))).all())  # fmt: skip
        questions = list((await conn.execute(sa.select(messages_t).where(
            messages_t.c.role == "user").order_by(messages_t.c.id))).all())  # fmt: skip
        answers = dict((await conn.execute(sa.select(messages_t.c.id, messages_t.c.text).where(
            messages_t.c.role == "assistant"))).all())  # fmt: skip
    await engine.dispose()
    assert [q.state for q in questions] == ["answered", "answered"]
    for question, thread in zip(questions, ("900.000100", "900.000200"), strict=True):
        [shown] = [m for m in fake_slack.messages() if m.thread_ts == thread]
        mine = [c for c in calls if c.message_id == question.id]
        assert shown.body == answers[mine[-1].answer_id] and shown.body.startswith("[simulated]")
        asked = [r for r in simulator.requests if r.path.endswith("/chat/completions")
                 and r.body["messages"][-1]["content"] == question.text]  # not the key check
        assert len(mine) == len(asked)  # one ledger row per request the LLM received
        assert [c.error_kind for c in mine] == ["interrupted"] * (len(mine) - 1) + [None]
    first_question = [c for c in calls if c.message_id == questions[0].id]
    assert [c.error_kind for c in first_question] == ["interrupted", None]
