"""A real `switchboard run` in Slack HTTP mode for the kill -9 tests: started as a subprocess
against the local Slack stand-in and the LLM simulator, restarted in this process through the
same composition root and `run` service (a second subprocess would add its start-up time and
prove nothing more than the first)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.composition import Switchboard
from adapters.llm.simulator import LLMSimulator, ModelProfile
from tests.adapters.slack.fake_slack import FakeSlack
from tests.conftest import Database, MakeApp

MODEL = "test/slow-model"
SLOW = ModelProfile(MODEL, Decimal("1"), Decimal("2"), 50, 25.0, (80, 80))  # ~3 s of tokens
SECRET = "kill9-signing-secret"
ROOT = str(Path(__file__).resolve().parents[3])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(
    home: Path, database_url: str, port: int, slack: FakeSlack, llm: LLMSimulator, **extra: str
) -> dict[str, str]:
    """The variables `switchboard run` gets (only these: no `.env`, DATA_DIR under `home`)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": ROOT,
        "DATA_DIR": str(home / "var"),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-kill9",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.base_url,
        "SLACK_HTTP_PORT": str(port),
        "SLACK_STREAM_MODE": "native",
        "LLM_BASE_URL": llm.base_url,
        "LLM_API_KEY": "sim-key",
        "ROUTING_STRATEGY": "fixed",
        "FIXED_MODEL": MODEL,
        "ANSWER_LEASE_S": "2",
        "RECOVERY_INTERVAL_S": "0.5",
        "LOG_LEVEL": "INFO",
        **extra,
    }


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


async def restart(
    make_app: MakeApp, db: Database, env: dict[str, str], llm: LLMSimulator
) -> tuple[Switchboard, asyncio.Task[None]]:
    """The same bot started again here, serving Slack (start-up recovery included)."""
    from adapters.services import services

    app = await make_app(
        db, llm_base_url=llm.base_url,
        **{name.lower(): value for name, value in env.items()
           if name not in ("PATH", "PYTHONPATH", "DATABASE_URL", "LLM_BASE_URL")},
    )  # fmt: skip
    return app, asyncio.create_task(services(app)["slack"]())


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


async def until(
    condition: Callable[[], Awaitable[Any]], timeout_s: float, what: str, log: Path
) -> None:
    try:
        async with asyncio.timeout(timeout_s):
            while not await condition():  # noqa: ASYNC110 - polls another process's work
                await asyncio.sleep(0.05)
    except TimeoutError:
        tail = await asyncio.to_thread(log.read_text)
        raise AssertionError(f"timed out waiting for {what}\n{tail[-3000:]}") from None
