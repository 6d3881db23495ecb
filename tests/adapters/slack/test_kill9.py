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
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from adapters.llm.simulator import LLMSimulator, ModelProfile
from adapters.services import services
from storage.database import create_engine
from storage.tables import calls_t, messages_t
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention, signed_headers
from tests.conftest import Database, MakeApp

MODEL = "test/slow-model"
SLOW = ModelProfile(MODEL, Decimal("1"), Decimal("2"), 50, 25.0, (80, 80))  # ~3 s of tokens
SECRET = "kill9-signing-secret"
ROOT = str(Path(__file__).resolve().parents[3])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def simulator() -> AsyncIterator[LLMSimulator]:
    async with LLMSimulator(seed=3, profiles={MODEL: SLOW}, speed=1.0) as sim:
        yield sim


async def start_bot(env: dict[str, str], cwd: Path, log: Path) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "adapters.cli.main", "run",
        cwd=cwd, env=env, stdout=log.open("ab"), stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    port = int(env["SLACK_HTTP_PORT"])
    async with asyncio.timeout(60):  # imports and migrations on a loaded 2-core machine
        while True:
            assert process.returncode is None, "switchboard run exited: see bot.log"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            return process


async def acked(
    port: int, body: str, headers: dict[str, str], process: asyncio.subprocess.Process
) -> bytes:
    """POST `body` and SIGKILL `process` the moment the response's first bytes arrive; the
    status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
             *(f"{name}: {value}" for name, value in headers.items())]  # fmt: skip
    writer.write(("\r\n".join(lines) + "\r\n\r\n" + body).encode())
    first = await reader.read(1)
    process.send_signal(signal.SIGKILL)  # ack + 0 ms: nothing else of ours runs
    line = first + await reader.readline()
    writer.close()
    return line


async def until(condition: Any, timeout_s: float, what: str, log: Path) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():  # noqa: ASYNC110 - polls another process's work
                await asyncio.sleep(0.05)
    except TimeoutError:
        tail = await asyncio.to_thread(log.read_text)
        raise AssertionError(f"timed out waiting for {what}\n{tail[-3000:]}") from None


async def test_kill_9_mid_stream_then_restart_answers_once(
    tmp_path: Path, fake_slack: FakeSlack, simulator: LLMSimulator, make_app: MakeApp
) -> None:
    db_path = tmp_path / "switchboard.db"
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": ROOT,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "SLACK_BOT_TOKEN": "xoxb-kill9",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.base_url,
        "SLACK_HTTP_PORT": str(port),
        "SLACK_STREAM_MODE": "native",
        "LLM_BASE_URL": simulator.base_url,
        "LLM_API_KEY": "sim-key",
        "ROUTING_STRATEGY": "fixed",
        "FIXED_MODEL": MODEL,
        "ANSWER_LEASE_S": "2",
        "RECOVERY_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
    }
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
        async with httpx.AsyncClient() as client:
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
    restarted = await make_app(
        Database("sqlite", env["DATABASE_URL"], None), llm_base_url=simulator.base_url,
        **{name.lower(): value for name, value in env.items()
           if name not in ("PATH", "PYTHONPATH", "DATABASE_URL", "LLM_BASE_URL")},
    )  # fmt: skip
    serving = asyncio.create_task(services(restarted)["slack"]())
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
