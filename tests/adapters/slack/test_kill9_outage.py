"""`kill -9` during a database outage (issue 21 item 2): `switchboard run` finishes and posts
an answer while its database is away, so its ledger row, its post and its answered mark can
only be kept; then it is killed. After the database returns and the bot starts again, its
journal (DATA_DIR/journal) puts every kept write in the database once: no ledger row lost, no
`estimated` row at the bound, nothing asked again, nothing posted twice.

The outage: on SQLite another process holding the write lock (as a long export or a backup
can), on PostgreSQL the connection cut by a proxy (a restart, a failover).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.llm.simulator import Fault, LLMSimulator
from storage.tables import calls_t, messages_t, posts_t
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers
from tests.adapters.slack.running import (
    MODEL,
    SECRET,
    SLOW,
    bot_env,
    free_port,
    restart,
    start_bot,
    until,
)
from tests.conftest import PG_URL, Database, MakeApp
from tests.http import http_client
from tests.pg_proxy import CuttableProxy

QUESTION = "How do I rotate the signing keys?"


@pytest.fixture
async def simulator() -> AsyncIterator[LLMSimulator]:
    async with LLMSimulator(seed=5, profiles={MODEL: SLOW}, speed=0.3) as sim:
        yield sim


async def scratch_database() -> str:
    name = f"kill9_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return f"{PG_URL.rsplit('/', 1)[0]}/{name}"


async def drop_database(url: str) -> None:
    admin = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" '
                                   "WITH (FORCE)"))  # fmt: skip
    await admin.dispose()


async def sqlite_outage(db: Database) -> tuple[str, Callable[[], Awaitable[None]],
                                               Callable[[], Awaitable[None]]]:  # fmt: skip
    path = db.url.split("///", 1)[1]
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    async def begin() -> None:
        locker.execute("BEGIN EXCLUSIVE")  # no other writer until it ends

    async def end() -> None:
        locker.execute("ROLLBACK")
        locker.close()

    return db.url, begin, end


async def test_kill_9_during_an_outage_loses_no_ledger_row_and_answers_nothing_again(
    database: Database,
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: LLMSimulator,
    make_app: MakeApp,
) -> None:
    proxy: CuttableProxy | None = None
    if database.kind == "sqlite":
        bot_url, begin_outage, end_outage = await sqlite_outage(database)
    else:  # a database of its own (the bot migrates it at start), behind the proxy
        database = Database("postgres", await scratch_database(), None)
        proxy = await CuttableProxy(database.url).start()
        begin_outage, end_outage = proxy.cut, proxy.restore
        bot_url = proxy.url.replace("+asyncpg", "")
    port = free_port()
    env = bot_env(tmp_path, bot_url, port, fake_slack, simulator, DATABASE_WAIT_S="0.3")
    log = tmp_path / "bot.log"
    journal = tmp_path / "var" / "journal"

    def kept(kind: str) -> bool:
        return any(f'"kind":"{kind}"' in p.read_text() for p in journal.glob("*.jsonl"))

    dead = await start_bot(env, tmp_path, log)
    # The question's request waits 1.5 s for its first token: the outage begins in that time,
    # after the question, and the request in flight, were stored.
    simulator.inject(Fault("slow_first_token", delay_s=1.5))
    try:
        body = json.dumps(envelope(mention(QUESTION, "910.000100")))
        async with http_client() as client:
            # As Slack delivers: a 500 (the question not stored within DATABASE_WAIT_S, as on a
            # loaded machine) is delivered again, up to 3 retries, with Slack's retry headers.
            for retry in range(4):
                headers = signed_headers(body, secret=SECRET)
                if retry:
                    headers |= {"x-slack-retry-num": str(retry),
                                "x-slack-retry-reason": "http_error"}  # fmt: skip
                response = await client.post(f"http://127.0.0.1:{port}/slack/events",
                                             content=body, headers=headers)  # fmt: skip
                if response.status_code == 200:
                    break
        assert response.status_code == 200

        async def requested() -> bool:
            return any(r.body.get("messages", [{}])[-1].get("content") == QUESTION
                       for r in simulator.requests)  # fmt: skip

        await until(requested, 30, "the question's request", log)
        await begin_outage()

        async def all_kept() -> bool:  # the answer finished and was posted, its writes kept
            return bool(fake_slack.named("chat.stopStream")) and kept("finish")

        await until(all_kept, 30, "the answer's writes to be kept in the journal", log)
    finally:
        dead.send_signal(signal.SIGKILL)  # no cleanup code of ours runs
        await dead.wait()
    await end_outage()
    posted = len(fake_slack.named("chat.startStream"))

    app, serving = await restart(make_app, database, env, simulator)
    try:

        async def answered() -> bool:
            async with app.stores.db.connect() as conn:
                state = await conn.scalar(sa.select(messages_t.c.state).where(
                    messages_t.c.role == "user"))  # fmt: skip
            return bool(state == "answered")

        await until(answered, 20, "the journal's writes to be stored", log)
        async with app.stores.db.connect() as conn:
            calls = list((await conn.execute(sa.select(calls_t).where(
                calls_t.c.purpose == "answer"))).all())  # fmt: skip
            posts = (await conn.execute(sa.select(posts_t))).all()
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        if proxy is not None:
            await proxy.close()
            await app.close()
            await drop_database(database.url)
    asked = [r for r in simulator.requests if r.path.endswith("/chat/completions")
             and r.body["messages"][-1]["content"] == QUESTION]  # fmt: skip
    assert len(calls) == len(asked) == 1  # the paid request is on the ledger, once
    assert calls[0].cost_source != "estimated" and calls[0].error_kind is None
    assert len(posts) == 1  # reactions find the answer
    assert len(fake_slack.named("chat.startStream")) == posted == 1  # not posted again
    assert not any(p.read_text() for p in journal.glob("*.jsonl"))  # replayed: nothing left
