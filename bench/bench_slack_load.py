"""Slack HTTP-mode load: signed `app_mention` events against a real `switchboard run` process.

Run: .venv/bin/python bench/bench_slack_load.py /work/old/.venv/bin/switchboard
        [--events 200] [--concurrency 25] [--budgets 0..4] [--metrics] [--repeat 3]

What happens, per run:
1. This script serves two local stand-ins on one 127.0.0.1 port: the Slack Web API
   (`/api/<method>`: auth.test, chat.postMessage/update/postEphemeral, chat.startStream/
   appendStream/stopStream, assistant.threads.setStatus, reactions.add, conversations.info,
   users.info; anything else answers `unknown_method`) and an instant OpenAI-compatible LLM
   (`/v1/chat/completions`: a canned Eden AI SSE stream, content chunks, a usage chunk with
   `cost`, `[DONE]`, all at once). Neither ever waits.
2. It starts `<switchboard> run` in Slack HTTP mode (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET,
   SLACK_API_URL and LLM_BASE_URL at the stand-ins, SQLite in a temporary DATA_DIR, or
   `--database-url`), in an empty temporary working directory (no `.env` is read).
3. When the events port accepts connections it waits `--settle` seconds and reads the bot's
   RSS (idle). Then it sends `--events` signed `app_mention` events (v0 HMAC-SHA256 of
   `v0:{timestamp}:{body}`) from `--concurrency` concurrent senders, while sampling the bot's
   /proc/<pid>/status every 50 ms. `--mode conversations` (default): a sender sends its next
   mention once the answer to its previous one is complete (25 people asking at a time);
   `--mode burst`: once the previous one is acked (all 200 arrive within ~2 s, answers queue).
4. It waits until every answer is complete (the call carrying the feedback buttons) or
   `--timeout` passes, then stops the bot with SIGINT.

Per event: ack = HTTP response time of the event POST; first post = from sending the event to
the stand-in receiving the first chat.postMessage / chat.startStream / chat.update for that
thread; done = to the call that finished the answer (the one with the feedback buttons).
RSS: idle after start-up; peak = the largest 50 ms sample during the load; VmHWM = the
kernel's high-water mark at the end (includes start-up). The stand-ins and the senders share
this script's one event loop; the bot has its own process. Load average is printed per run.

`--kb DIR` indexes DIR (`kb add`) and `--router-version FILE` makes a router version the active
one before the bot starts, so that the idle RSS is that of a bot with a knowledge base and a
learning memory (issue 22: 1,000 documents from `bench_kb.py --write-docs`, 10,000 judged
questions from `bench_memory_routing.py --write-version`); every mention is then also searched.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import pstats
import signal
import socket
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import Process
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web
from toolkit import serve

SECRET = "bench-signing-secret"
BOT_USER = "UBOT"
TEAM = "T1"
CHANNELS = 10
USERS = 50
# Budgets large enough never to trip: the checks run, the answers stay the same.
BUDGET_VARS = ("BUDGET_DAILY_USD", "BUDGET_MONTHLY_USD", "BUDGET_CHANNEL_DAILY_USD",
               "BUDGET_USER_DAILY_USD")  # fmt: skip
POSTS = ("chat.postMessage", "chat.startStream", "chat.update")


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- the LLM stand-in -------------------------------------------------------------------


USAGE = {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52}


def canned_stream(model: str) -> bytes:
    chunks: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        {"choices": [{"index": 0, "delta": {"content": "Open Settings, "}}]},
        {"choices": [{"index": 0, "delta": {"content": "then Security, "}}]},
        {"choices": [{"index": 0, "delta": {"content": "and choose Reset password."}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {"choices": [], "usage": USAGE, "cost": 0.0000126},
    ]
    lines = [f"data: {json.dumps({'model': model, **chunk})}\n\n" for chunk in chunks]
    return ("".join(lines) + "data: [DONE]\n\n").encode()


async def llm_completions(request: web.Request) -> web.Response:
    body = await request.json()
    model = str(body.get("model") or "openai/gpt-4o-mini")
    return web.Response(body=canned_stream(model), content_type="text/event-stream")


# --- the Slack Web API stand-in -----------------------------------------------------------


@dataclass
class Thread:
    """One mention's fate, keyed by its ts (the bot answers in the thread the mention starts)."""

    sent: float = 0.0
    acked: float = 0.0
    status: int = 0
    first_post: float = 0.0
    done: float = 0.0
    failed: bool = False
    over: asyncio.Event = field(default_factory=asyncio.Event)  # answered or failed


@dataclass
class SlackStandIn:
    native_streaming: bool
    threads: dict[str, Thread] = field(default_factory=dict)
    thread_of_message: dict[str, str] = field(default_factory=dict)  # posted ts -> thread ts
    calls: dict[str, int] = field(default_factory=dict)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0
    answered: int = 0
    _ts: int = 0

    def next_ts(self) -> str:
        self._ts += 1
        return f"1800000000.{self._ts:06d}"

    async def api(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            args: dict[str, Any] = json.loads(raw or "{}")
        else:
            args = dict(parse_qsl(raw))
            args.update(request.query)
        if isinstance(args.get("blocks"), str):
            args["blocks"] = json.loads(args["blocks"])
        self.calls[method] = self.calls.get(method, 0) + 1
        answer = self.answer(method, args)
        self.observe(method, args, answer, now)
        return web.json_response(answer)

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel") or args.get("channel_id")
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM,
                    "team": "Bench", "user": "switchboard"}  # fmt: skip
        if method == "chat.startStream" and not self.native_streaming:
            return {"ok": False, "error": "unknown_method"}
        if method in ("chat.postMessage", "chat.startStream"):
            return {"ok": True, "channel": channel, "ts": self.next_ts()}
        if method in ("chat.update", "chat.appendStream", "chat.stopStream"):
            return {"ok": True, "channel": channel, "ts": args.get("ts")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        if method in ("assistant.threads.setStatus", "reactions.add"):
            return {"ok": True}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": channel, "name": f"bench-{channel}"}}
        if method == "users.info":
            user = args.get("user", "U0")
            return {"ok": True, "user": {"id": user, "name": f"user-{user}", "team_id": TEAM}}
        return {"ok": False, "error": "unknown_method"}

    def thread_of(self, method: str, args: dict[str, Any], answer: dict[str, Any]) -> str | None:
        """The thread a call is about: its `thread_ts`, else that of the message it edits."""
        thread_ts = args.get("thread_ts")
        if method in ("chat.postMessage", "chat.startStream") and answer.get("ok") and thread_ts:
            self.thread_of_message[str(answer["ts"])] = str(thread_ts)
        if not thread_ts and args.get("ts"):
            thread_ts = self.thread_of_message.get(str(args["ts"]))
        return str(thread_ts) if thread_ts else None

    def observe(
        self, method: str, args: dict[str, Any], answer: dict[str, Any], now: float
    ) -> None:
        """Note first posts and finished answers, per mention thread."""
        thread_ts = self.thread_of(method, args, answer)
        thread = self.threads.get(str(thread_ts)) if thread_ts else None
        if thread is None:
            return
        if method in POSTS and answer.get("ok") and not thread.first_post:
            thread.first_post = now
        text = str(args.get("text") or args.get("markdown_text") or "")
        if text.startswith(":warning:"):
            thread.failed = True
            thread.over.set()
        blocks = args.get("blocks") or []
        if not thread.done and any(b.get("type") == "actions" for b in blocks):
            thread.done = now
            thread.over.set()
            self.answered += 1
            if self.answered >= self.expected:
                self.finished.set()


# --- the bot process ----------------------------------------------------------------------


@dataclass
class Memory:
    idle_kb: int = 0
    peak_kb: int = 0
    hwm_kb: int = 0


def status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


async def sample_rss(pid: int, memory: Memory, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            memory.peak_kb = max(memory.peak_kb, status_kb(pid, "VmRSS"))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


def bot_env(
    args: argparse.Namespace, workdir: Path, api_port: int, events_port: int
) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    base = f"http://127.0.0.1:{api_port}"
    env.update({
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{base}/api/",
        "SLACK_HTTP_PORT": str(events_port),
        "LLM_BASE_URL": f"{base}/v1",
        "LLM_API_KEY": "bench",
        "DATA_DIR": str(workdir / "var"),
    })  # fmt: skip
    if args.log_level:
        env["LOG_LEVEL"] = args.log_level
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.routing_strategy:
        env["ROUTING_STRATEGY"] = args.routing_strategy
    for name in BUDGET_VARS[: args.budgets]:
        env[name] = "1000000"
    if args.metrics:
        env["METRICS_PORT"] = str(free_port())
    return env


def bot_command(args: argparse.Namespace) -> list[str]:
    """`<switchboard> run`, or with `--profile` the same under the venv's cProfile."""
    if args.profile is None:
        return [str(args.switchboard), "run"]
    python = args.switchboard.parent / "python"
    return [str(python), "-m", "cProfile", "-o", str(args.profile), str(args.switchboard), "run"]


def print_profile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    for order in ("tottime", "cumulative"):
        print(f"\nbot profile, top {top} by {order} (whole process: start-up, load, shutdown):")
        stats.sort_stats(order).print_stats(top)


async def prepare_database(args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> None:
    """`<switchboard> db upgrade` before the bot starts: the bot then starts as it restarts, on a
    database already at the latest migration."""
    upgrade = await asyncio.create_subprocess_exec(
        str(args.switchboard), "db", "upgrade", cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await upgrade.communicate()
    if upgrade.returncode != 0:
        raise RuntimeError(f"db upgrade failed ({upgrade.returncode}): {output.decode()[-300:]}")
    if args.kb is not None:
        await _run(args.switchboard, ["kb", "add", str(args.kb)], workdir, env)
    if args.router_version is not None:
        python = args.switchboard.parent / "python"
        await _run(python, ["-c", ADD_VERSION, str(args.router_version)], workdir, env)


# The version goes in through the bot's own store, as `router tune` stores an adopted one.
ADD_VERSION = """
import asyncio, json, sys
from bot.settings import Settings
from storage.database import create_engine
from storage.learning import LearningData
async def main(path):
    model = open(path).read()
    settings = Settings()
    engine = create_engine(settings.resolved_database_url)
    data = LearningData(engine)
    version = await data.add_version(
        base=json.loads(model)["base_fingerprint"], model=model, metrics="{}", data="{}",
        adopted=True, reason="bench_slack_load --router-version", activate=True)
    await engine.dispose()
    print("router version", version, "active")
asyncio.run(main(sys.argv[1]))
"""


async def _run(program: Path, argv: list[str], workdir: Path, env: dict[str, str]) -> None:
    done = await asyncio.create_subprocess_exec(
        str(program), *argv, cwd=workdir, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await done.communicate()
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {output.decode()[-500:]}")
    print(f"  before start: {program.name} {argv[0]}: {output.decode().strip().splitlines()[-1]}")


async def wait_for_port(port: int, process: Process, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode} during start-up")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"the bot did not listen on port {port} within {timeout_s:.0f} s")


async def stop_bot(process: Process) -> None:
    """SIGINT (a clean shutdown), then SIGTERM, then SIGKILL: this one process only."""
    for sig, wait_s in ((signal.SIGINT, 15.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if process.returncode is not None:
            return
        process.send_signal(sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), wait_s)


# --- the load -------------------------------------------------------------------------------


def mention_body(index: int, ts: str) -> str:
    channel = f"C{index % CHANNELS:03d}"
    event = {
        "type": "app_mention",
        "user": f"U{index % USERS:03d}",
        "text": f"<@{BOT_USER}> Question {index}: how do I reset my password on the web app?",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    return json.dumps({
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"EvBench{index:06d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        "event": event,
    })  # fmt: skip


def signed_headers(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


async def send_events(
    url: str,
    slack: SlackStandIn,
    count: int,
    concurrency: int,
    first_index: int,
    *,
    wait_answer: bool,
    timeout_s: float,
) -> None:
    """Send `count` mentions from `concurrency` senders; each sends its next mention once the
    previous one is acked, or (`wait_answer`) once its answer is complete, like a person."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(first_index, first_index + count):
        queue.put_nowait(index)
    run_id = int(time.time()) % 100_000

    async def sender(session: ClientSession) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            ts = f"{1_700_000_000 + run_id}.{index:06d}"
            thread = slack.threads[ts] = Thread()
            body = mention_body(index, ts)
            headers = signed_headers(body)
            thread.sent = time.monotonic()
            try:
                async with session.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    thread.status = response.status
            except (ClientError, TimeoutError):
                continue  # status stays 0: counted as not acked
            thread.acked = time.monotonic()
            if wait_answer:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(thread.over.wait(), timeout_s)

    connector = TCPConnector(limit=concurrency)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=30)) as session:
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))


@dataclass
class RunResult:
    figures: dict[str, float]
    failures: list[str]


async def one_run(args: argparse.Namespace) -> RunResult:
    slack = SlackStandIn(native_streaming=not args.no_native_streaming)
    web_app = web.Application()
    web_app.router.add_post("/api/{method}", slack.api)
    web_app.router.add_post("/v1/chat/completions", llm_completions)
    runner, api_port = await serve(web_app)
    events_port = free_port()
    failures: list[str] = []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-slack-") as tmp:
        workdir = Path(tmp)
        log_path = workdir / "bot.log"
        env = bot_env(args, workdir, api_port, events_port)
        if args.migrated:
            await prepare_database(args, workdir, env)
        started = time.monotonic()
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *bot_command(args), cwd=workdir, env=env,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        memory = Memory()
        stop = asyncio.Event()
        sampler: asyncio.Task[None] | None = None
        try:
            await wait_for_port(events_port, process, args.startup_timeout)
            figures["start-up to listening (s)"] = time.monotonic() - started
            await asyncio.sleep(args.settle)
            memory.idle_kb = status_kb(process.pid, "VmRSS")
            url = f"http://127.0.0.1:{events_port}/slack/events"
            if args.warmup:
                slack.expected = args.warmup
                await send_events(url, slack, args.warmup, 1, 0, wait_answer=True,
                                  timeout_s=args.timeout)  # fmt: skip
                slack.threads.clear()
                slack.answered = 0
            slack.expected = args.events
            sampler = asyncio.create_task(sample_rss(process.pid, memory, stop))
            load_started = time.monotonic()
            await send_events(
                url, slack, args.events, args.concurrency, args.warmup,
                wait_answer=args.mode == "conversations", timeout_s=args.timeout,
            )  # fmt: skip
            figures["last event acked (s)"] = time.monotonic() - load_started
            await wait_done(slack, args.timeout)
            figures["all answers done (s)"] = time.monotonic() - load_started
            memory.hwm_kb = status_kb(process.pid, "VmHWM")
        finally:
            stop.set()
            if sampler is not None:
                await sampler
            await stop_bot(process)
            await runner.cleanup()
            log_text = log_path.read_text(errors="replace")
            if args.bot_log:
                args.bot_log.write_text(log_text)
    threads = list(slack.threads.values())
    acks = [t.acked - t.sent for t in threads if t.acked]
    firsts = [t.first_post - t.sent for t in threads if t.first_post]
    dones = [t.done - t.sent for t in threads if t.done]
    bad_status = sum(1 for t in threads if t.status != 200)
    failed = sum(1 for t in threads if t.failed)
    figures["events acked 200"] = len(threads) - bad_status
    figures["answers completed"] = len(dones)
    figures["answers with a :warning: notice"] = failed
    for label, values in (("ack", acks), ("first post", firsts), ("done", dones)):
        for q in (0.5, 0.95, 0.99):
            if values:
                figures[f"{label} p{round(q * 100)} (s)"] = pct(values, q)
    # The first wave of events meets a process that has served nothing yet (first-use costs):
    # the same percentiles without it show the steady state.
    later = sorted(threads, key=lambda t: t.sent)[args.concurrency :]
    for label, attr in (("ack", "acked"), ("first post", "first_post")):
        values = [getattr(t, attr) - t.sent for t in later if getattr(t, attr)]
        if values:
            figures[f"{label} p99 after first wave (s)"] = pct(values, 0.99)
    figures["RSS idle (MB)"] = memory.idle_kb / 1024
    figures["RSS peak under load (MB)"] = memory.peak_kb / 1024
    figures["VmHWM at end (MB)"] = memory.hwm_kb / 1024
    if bad_status:
        failures.append(f"{bad_status} events not acked with 200")
    if len(dones) < len(threads):
        failures.append(f"only {len(dones)}/{len(threads)} answers completed")
    problems = [line for line in log_text.splitlines() if "ERROR" in line or "Traceback" in line]
    if problems:
        failures.append(f"{len(problems)} ERROR/Traceback lines in the bot's log, first: "
                        f"{problems[0][:200]}")  # fmt: skip
    if args.show_calls:
        print(f"  Web API calls: {dict(sorted(slack.calls.items()))}")
    return RunResult(figures, failures)


async def wait_done(slack: SlackStandIn, timeout_s: float) -> None:
    if slack.expected == 0:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(slack.finished.wait(), timeout_s)


def print_figures(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        shown = f"{value:.0f}" if name.endswith(("200", "completed", "notice")) else f"{value:.3f}"
        if name.endswith("(MB)"):
            shown = f"{value:.1f}"
        print(f"  {name:<38}{shown:>10}")


async def main_async(args: argparse.Namespace) -> int:
    runs: list[dict[str, float]] = []
    failed = False
    for number in range(1, args.repeat + 1):
        print(f"run {number}/{args.repeat}: load average before {loadavg()}")
        try:
            result = await one_run(args)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print_figures(result.figures)
        for failure in result.failures:
            print(f"  WARNING: {failure}")
            failed = True
        print(f"  load average after {loadavg()}")
        runs.append(result.figures)
        if number < args.repeat:
            await asyncio.sleep(args.pause)
    if len(runs) > 1:
        print(f"\nacross {len(runs)} runs: median [min - max]")
        for name in runs[0]:
            values = [run[name] for run in runs if name in run]
            print(f"  {name:<38}{statistics.median(values):>10.3f}  "
                  f"[{min(values):.3f} - {max(values):.3f}]")  # fmt: skip
    if args.profile is not None and args.profile.exists():
        print_profile(args.profile, 30)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("switchboard", type=Path, help="path of a venv's `switchboard` executable")
    parser.add_argument("--events", type=int, default=200, help="mentions timed (default 200)")
    parser.add_argument("--concurrency", type=int, default=25, help="senders (default 25)")
    parser.add_argument(
        "--mode",
        choices=("conversations", "burst"),
        default="conversations",
        help="conversations (default): a sender waits for its answer before its next mention; "
        "burst: the next mention follows the ack, so answers queue",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="mentions sent one by one before the timed load (default 0)",
    )
    parser.add_argument(
        "--budgets",
        type=int,
        default=0,
        choices=range(5),
        help="how many of the 4 budgets to set (never reached; default 0)",
    )
    parser.add_argument("--metrics", action="store_true", help="also serve METRICS_PORT")
    parser.add_argument(
        "--database-url",
        default="",
        help="DATABASE_URL for the bot (default: SQLite in a temporary dir)",
    )
    parser.add_argument(
        "--migrated",
        action="store_true",
        help="run `<switchboard> db upgrade` first, so the bot starts on a migrated database "
        "(a restart) rather than migrating it itself (a first start)",
    )
    parser.add_argument(
        "--kb",
        type=Path,
        help="`<switchboard> kb add DIR` before the bot starts (implies --migrated); e.g. the "
        "documents of `bench_kb.py --write-docs DIR`",
    )
    parser.add_argument(
        "--router-version",
        type=Path,
        help="store this router version JSON (`bench_memory_routing.py --write-version`) as the "
        "active version before the bot starts (implies --migrated; needs the python next to "
        "<switchboard>)",
    )
    parser.add_argument("--routing-strategy", default="", help="ROUTING_STRATEGY (default: bot's)")
    parser.add_argument(
        "--no-native-streaming",
        action="store_true",
        help="the stand-in refuses chat.startStream (bot falls back to updates)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="whole runs, each a fresh bot")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between runs")
    parser.add_argument(
        "--settle",
        type=float,
        default=2.0,
        help="seconds after start-up before the idle RSS is read",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for all answers after the last ack",
    )
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="the bot's LOG_LEVEL (default: the bot's own, INFO)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the bot under cProfile, write its stats here and print the "
        "top functions (slows the bot: figures are not comparable)",
    )
    parser.add_argument("--bot-log", type=Path, help="save the bot's output (last run) here")
    parser.add_argument("--show-calls", action="store_true", help="print Web API call counts")
    args = parser.parse_args()  # fmt: skip
    args.switchboard = args.switchboard.absolute()
    if not (args.switchboard.is_file() and os.access(args.switchboard, os.X_OK)):
        parser.error(f"{args.switchboard} is not an executable file")
    if args.events < 1 or args.concurrency < 1 or args.repeat < 1:
        parser.error("--events, --concurrency and --repeat must be at least 1")
    if args.profile is not None:
        args.profile = args.profile.absolute()
        if not (args.switchboard.parent / "python").exists():
            parser.error(f"--profile needs a python next to {args.switchboard}")
    for path in (args.kb, args.router_version):
        if path is not None and not path.exists():
            parser.error(f"{path} does not exist")
    if args.kb is not None or args.router_version is not None:
        args.migrated = True
        args.kb = args.kb and args.kb.absolute()
        args.router_version = args.router_version and args.router_version.absolute()
    print(f"executable: {args.switchboard}")
    print(f"{args.events} mentions, {args.concurrency} concurrent senders ({args.mode}), "
          f"budgets={args.budgets}, "
          f"metrics={'on' if args.metrics else 'off'}, "
          f"native streaming={'refused' if args.no_native_streaming else 'offered'}, "
          f"database={'DATABASE_URL' if args.database_url else 'SQLite (temporary)'}"
          f"{', migrated beforehand' if args.migrated else ''}"
          f"{f', knowledge base {args.kb}' if args.kb else ''}"
          f"{f', router version {args.router_version}' if args.router_version else ''}"
          )  # fmt: skip
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
