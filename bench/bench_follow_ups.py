"""Follow-ups under a burst: are thread replies sent right after their parent all answered?

Run: .venv/bin/python bench/bench_follow_ups.py .venv/bin/switchboard
        [--parents 500] [--follow-ups 600] [--concurrency 25] [--delay-s 0.5]

Against a real `switchboard run` in Slack HTTP mode, with the stand-ins of
bench_slack_load.py (the Slack Web API and an instant LLM, both on 127.0.0.1; SQLite in a
temporary directory, or `--database-url`). `--concurrency` senders send `--parents` signed
`app_mention` events in a burst (each sender's next mention follows its previous ack); each
parent gets a follow-up, a thread reply without a mention (a `message` event with the
parent's `thread_ts`), sent a random 0..`--delay-s` seconds after the parent's ack; the
first `--follow-ups - --parents` parents get a second one. Every answer is counted in the
thread it lands in (the final call that carries the feedback buttons). The figure: how many of
the follow-ups were answered, and how many parents.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_slack_load import (
    BOT_USER,
    TEAM,
    SlackStandIn,
    bot_env,
    free_port,
    llm_completions,
    loadavg,
    mention_body,
    signed_headers,
    stop_bot,
    wait_for_port,
)
from toolkit import serve


class CountingStandIn(SlackStandIn):
    """Counts finished answers per thread (a parent and its follow-ups share one thread)."""

    def __init__(self) -> None:
        super().__init__(native_streaming=True)
        self.per_thread: dict[str, int] = {}
        self.total = 0
        self.done = asyncio.Event()

    def observe(
        self, method: str, args: dict[str, Any], answer: dict[str, Any], now: float
    ) -> None:
        thread_ts = self.thread_of(method, args, answer)
        blocks = args.get("blocks") or []
        if thread_ts and any(b.get("type") == "actions" for b in blocks):
            self.per_thread[thread_ts] = self.per_thread.get(thread_ts, 0) + 1
            self.total += 1
            if self.total >= self.expected:
                self.done.set()


def follow_up_body(index: int, reply: int, ts: str, thread_ts: str) -> str:
    event = {
        "type": "message",
        "user": f"U{index % 50:03d}",
        "text": f"And one more thing about question {index} ({reply})?",
        "ts": ts,
        "thread_ts": thread_ts,
        "channel": f"C{index % 10:03d}",
        "channel_type": "channel",
        "event_ts": ts,
    }
    return json.dumps({
        "token": "legacy", "team_id": TEAM, "api_app_id": "A1", "type": "event_callback",
        "event_id": f"EvFollow{index:06d}{reply}", "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    })  # fmt: skip


async def run(args: argparse.Namespace) -> int:
    slack = CountingStandIn()
    slack.expected = args.parents + args.follow_ups
    web_app = web.Application()
    web_app.router.add_post("/api/{method}", slack.api)
    web_app.router.add_post("/v1/chat/completions", llm_completions)
    runner, api_port = await serve(web_app)
    events_port = free_port()
    rng = random.Random(args.seed)
    statuses: list[int] = []
    later: list[asyncio.Task[None]] = []
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as tmp:
        workdir = Path(tmp)
        env = bot_env(args, workdir, api_port, events_port)
        log_path = workdir / "bot.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                str(args.switchboard.resolve()), "run", cwd=workdir, env=env, stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        try:
            await wait_for_port(events_port, process, 60)
            url = f"http://127.0.0.1:{events_port}/slack/events"
            run_id = int(time.time()) % 100_000
            queue: asyncio.Queue[int] = asyncio.Queue()
            for index in range(args.parents):
                queue.put_nowait(index)
            connector = TCPConnector(limit=args.concurrency * 4)
            timeout = ClientTimeout(total=30)
            async with ClientSession(connector=connector, timeout=timeout) as session:

                async def post(body: str) -> None:
                    with contextlib.suppress(Exception):
                        async with session.post(
                            url, data=body.encode(), headers=signed_headers(body)
                        ) as response:
                            await response.read()
                            statuses.append(response.status)
                            return
                    statuses.append(0)

                async def follow(index: int, thread_ts: str) -> None:
                    for reply in range(1 + (index < args.follow_ups - args.parents)):
                        await asyncio.sleep(rng.uniform(0, args.delay_s))
                        ts = f"{1_700_000_000 + run_id}.{index:04d}{reply + 1:02d}"
                        await post(follow_up_body(index, reply, ts, thread_ts))

                async def sender() -> None:
                    while not queue.empty():
                        index = queue.get_nowait()
                        ts = f"{1_700_000_000 + run_id}.{index:04d}00"
                        await post(mention_body(index, ts))
                        later.append(asyncio.create_task(follow(index, ts)))

                started = time.monotonic()
                await asyncio.gather(*(sender() for _ in range(args.concurrency)))
                await asyncio.gather(*later)
                sent_s = time.monotonic() - started
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(slack.done.wait(), args.timeout)
                done_s = time.monotonic() - started
        finally:
            await stop_bot(process)
            await runner.cleanup()
            ignored = log_path.read_text(errors="replace").count("where nobody asked the bot")
    threads = list(slack.per_thread.values())
    parents = sum(1 for n in threads if n >= 1)
    follow_ups = sum(max(0, n - 1) for n in threads)
    print(
        f"load average {loadavg()}; {args.parents} parents + {args.follow_ups} follow-ups "
        f"(0-{args.delay_s:g} s after each parent's ack), {args.concurrency} senders"
    )
    print(f"  events acked 200: {statuses.count(200)} of {len(statuses)}"
          f" (others: {sorted(set(statuses) - {200})})")  # fmt: skip
    print(f"  parents answered: {parents} of {args.parents}")
    print(f"  follow-ups answered: {follow_ups} of {args.follow_ups}")
    print(f"  follow-ups logged as 'nobody asked the bot': {ignored}")
    print(f"  all sent in {sent_s:.1f} s; answers done (or timed out) at {done_s:.1f} s")
    return 0 if parents == args.parents and follow_ups == args.follow_ups else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("switchboard", type=Path, help="path of a venv's `switchboard` executable")
    parser.add_argument("--parents", type=int, default=500)
    parser.add_argument("--follow-ups", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--delay-s", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--log-level", default="")
    args = parser.parse_args()
    args.routing_strategy, args.budgets, args.metrics = "", 0, False
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
