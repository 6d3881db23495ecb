"""SIGTERM (docker stop, systemd, Kubernetes) to a running `switchboard run` in the middle of
an answer: it stops taking events, the answer completes, everything closes, exit code 0.

A real process (the signal and the exit code are the process's), connected in Socket Mode to
the fake Slack, answering through the LLM simulator, both served by this test over loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path

from adapters.llm.simulator import Fault, LLMSimulator
from bot.settings import Settings
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import envelope, mention
from tests.adapters.slack.test_socket_mode import socket_envelope

SWITCHBOARD = Path(sys.executable).with_name("switchboard")


def clean_env(**variables: str) -> dict[str, str]:
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    return {**env, **variables}


async def test_sigterm_mid_answer_finishes_the_answer_and_exits_0(tmp_path: Path) -> None:
    async with LLMSimulator(speed=0) as llm, FakeSlack() as slack:
        process = await asyncio.create_subprocess_exec(
            str(SWITCHBOARD), "run",
            env=clean_env(
                SWITCHBOARD_HOME=str(tmp_path),
                SLACK_BOT_TOKEN="xoxb-1",
                SLACK_APP_TOKEN="xapp-1",
                SLACK_API_URL=slack.base_url,
                LLM_API_KEY="test-key",
                LLM_BASE_URL=llm.base_url,
            ),
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await slack.until(lambda: slack.sockets, 60)  # started (imports take a while)
            llm.inject(Fault("slow_first_token", delay_s=3.0))  # the answer takes 3 s+
            await slack.push(socket_envelope(envelope(mention("Where is it?", "900.000100"))))
            async with asyncio.timeout(20):
                while len(llm.requests) < 2:  # noqa: ASYNC110 - the start-up check, the answer
                    await asyncio.sleep(0.01)
            process.send_signal(signal.SIGTERM)  # mid-answer: no token has arrived yet
            await slack.until(lambda: not slack.sockets, 10)  # stops taking events first
            assert not slack.named("chat.stopStream")  # ... while the answer is still running
            assert process.stderr is not None
            err = (await asyncio.wait_for(process.stderr.read(), 30)).decode()
            code = await asyncio.wait_for(process.wait(), 30)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert code == 0, err
    assert "SIGTERM: stopping" in err and "Traceback" not in err
    [answer] = [m for m in slack.messages() if m.body != "_Thinking…_"]
    assert answer.body.startswith("[simulated]") and slack.named("chat.stopStream")
    with sqlite3.connect(tmp_path / "var" / "switchboard.db") as db:
        # The start-up check of the key, then the answer: both billed, both on the ledger.
        rows = db.execute("SELECT purpose, status FROM calls ORDER BY id").fetchall()
        assert rows == [("check", "ok"), ("answer", "ok")]
