"""Memory under load: RSS of the bot over N Slack mentions, after a warm-up.

Run: .venv/bin/python bench/bench_memory.py [--messages 10000] [--warmup 1000] [--concurrency 20]

The whole answer path runs in this process as `switchboard run` wires it (composition root,
SQLite in a temporary directory, budgets and metrics on): each mention is a signed Events API
body handed to `SlackAdapter.dispatch_http`; answers stream through the real Slack Web API
client to a local stand-in that answers `ok` and keeps nothing; the LLM is the real HTTP client
over an in-process httpx transport answering at once with a canned Eden AI stream. Every
mention opens a new thread, so the database grows as it would.

RSS (from /proc/self/statm) is sampled after `gc.collect()` at the end of the warm-up and
every `--every` messages after it; the figure that matters is the growth after warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import hmac
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from aiohttp import web  # noqa: E402
from toolkit import serve  # noqa: E402

from adapters.composition import build  # noqa: E402
from adapters.llm.openai_client import ProviderClient  # noqa: E402
from adapters.slack.app import SlackAdapter  # noqa: E402
from adapters.slack.config import SlackConfig  # noqa: E402
from bot.settings import Settings  # noqa: E402

SECRET = "bench-signing-secret"
CANNED = "".join(
    f"data: {line}\n\n"
    for line in (
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Go to "}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Settings, "}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Security."}}]}',
        '{"model":"openai/gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        '{"model":"openai/gpt-4o-mini","choices":[],"usage":{"prompt_tokens":40,'
        '"completion_tokens":6,"total_tokens":46},"cost":0.0000096}',
        "[DONE]",
    )
).encode()


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def slack_stand_in() -> tuple[web.AppRunner, str]:
    """Answers every Web API method `ok` with a fresh ts; records nothing."""
    counter = iter(range(10**9))

    async def api(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True, "ts": f"1700000000.{next(counter):06d}"})

    app = web.Application()
    app.router.add_post("/api/{method}", api)
    runner, port = await serve(app)
    return runner, f"http://127.0.0.1:{port}/api/"


def mention(n: int) -> tuple[str, dict[str, str]]:
    ts = f"{1_800_000_000 + n}.000100"
    body = json.dumps({
        "token": "t", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{n:09d}", "event_time": int(time.time()),
        "event": {"type": "app_mention", "user": f"U{n % 50}", "channel": f"C{n % 7}",
                  "text": f"<@UBOT> How do I reset my password? ({n})", "ts": ts},
    })  # fmt: skip
    stamp = str(int(time.time()))
    base = f"v0:{stamp}:{body}".encode()  # Slack's request signature (v0, HMAC-SHA256)
    signature = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {"content-type": "application/json", "x-slack-request-timestamp": stamp,
               "x-slack-signature": signature}  # fmt: skip
    return body, headers


async def run(args: argparse.Namespace) -> dict[str, Any]:
    runner, api_url = await slack_stand_in()
    http = httpx.AsyncClient(transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=CANNED,
                                       headers={"content-type": "text/event-stream"})))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), llm_api_key="bench", routing_strategy="fixed",  # type: ignore[call-arg]
            fixed_model="openai/gpt-4o-mini", slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET, slack_api_url=api_url, slack_stream_mode="update",
            budget_daily_usd=1000.0, show_context_line=True,
        )  # fmt: skip
        provider = ProviderClient(http, "http://llm.invalid/v1", "bench")
        switchboard = await build(settings, provider=provider)
        config = SlackConfig.from_settings(settings)
        assert config is not None
        adapter = SlackAdapter(switchboard.engine, switchboard.ops, config)
        samples: list[tuple[int, float]] = []
        started = time.perf_counter()
        try:
            sent = 0
            while sent < args.warmup + args.messages:
                batch = [mention(sent + i) for i in range(args.concurrency)]
                for body, headers in batch:
                    await adapter.dispatch_http(body, headers)
                await adapter.drain()
                sent += len(batch)
                after = sent - args.warmup
                if after >= 0 and after % args.every < args.concurrency:
                    gc.collect()
                    samples.append((after, round(rss_mb(), 1)))
                    print(f"{after:>6} messages after warm-up: RSS {samples[-1][1]} MB",
                          flush=True)  # fmt: skip
        finally:
            await adapter.close()
            await switchboard.close()
            await http.aclose()
            await runner.cleanup()
    elapsed = time.perf_counter() - started
    growth = samples[-1][1] - samples[0][1]
    return {"messages": args.messages, "warmup": args.warmup, "rss_after_warmup_mb": samples[0][1],
            "rss_end_mb": samples[-1][1], "growth_mb": round(growth, 1),
            "seconds": round(elapsed, 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--every", type=int, default=1000, help="sample RSS every N messages")
    args = parser.parse_args()
    print(f"loadavg before: {Path('/proc/loadavg').read_text().strip()}")
    result = asyncio.run(run(args))
    result["loadavg_after"] = Path("/proc/loadavg").read_text().strip()
    print(json.dumps(result))
    return 0 if result["growth_mb"] < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
