"""Per-thread and per-variant SQL aggregates on SQLite and PostgreSQL, checked against raw rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from adapters.cli.commands.ab import render
from adapters.cli.console import ConsoleReply
from bot.experiments.report import build_report, experiment_digest_lines
from storage.experiments import Window, percentile
from storage.records import CallRecord
from storage.tables import calls_t, threads_t, utcnow
from tests.bot.experiments.helpers import ask, fixed_ab, routing_file
from tests.conftest import Database, MakeApp


async def test_thread_and_variant_aggregates_match_the_raw_rows(
    database: Database, make_app: MakeApp, tmp_path: Path
) -> None:
    app = await make_app(database, routing_file=routing_file(tmp_path, fixed_ab(target=3)))
    (experiment,) = app.routing.experiments
    data = app.stores.experiments
    for i in range(10):
        await ask(app, f"t{i}", f"Question number {i} about invoices?", f"e{i}")
    async with app.stores.db.connect() as conn:
        threads = {
            r.external_id: (r.id, r.variant)
            for r in (await conn.execute(sa.select(threads_t))).all()
        }
        calls = (await conn.execute(sa.select(calls_t).order_by(calls_t.c.id))).all()
    by_variant: dict[str, list[str]] = {"A": [], "B": []}
    for name, (_, variant) in sorted(threads.items()):
        by_variant[variant].append(name)
    assert by_variant["A"] and by_variant["B"]
    first_call = {c.thread_id: c.id for c in reversed(calls)}
    # Signals: in each variant the first thread gets a follow-up, a thumbs-up and "solved";
    # the second (if any) a thumbs-down and an escalation; one answer gets a judge score.
    for names in by_variant.values():
        tid = threads[names[0]][0]
        await ask(app, names[0], "Thanks, and for last year?", f"{names[0]}-follow")
        await app.ops.feedback_on_call(first_call[tid], "u1", 1)
        await app.ops.solved("console", "local", "c1", names[0], "u1")
        if len(names) > 1:
            tid2 = threads[names[1]][0]
            await app.ops.feedback_on_call(first_call[tid2], "u2", -1)
            outcome = await app.engine.escalate(first_call[tid2], "u2", ConsoleReply(echo=False))
            assert outcome.status == "answered"
    a_thread = threads[by_variant["A"][0]][0]
    judge_call = await app.stores.conversations.record_call(
        CallRecord(
            thread_id=a_thread,
            message_id=calls[0].message_id,
            platform="console",
            workspace="local",
            channel="c1",
            user="",
            strategy="judge",
            model_asked="openai/gpt-4o-mini",
            cost_source="reported",
            status="ok",
            attempt=1,
            purpose="judge",
            cost_nano_usd=12_345,
        )
    )
    await data.record_judgement(first_call[a_thread], judge_call, 7)

    rows = await data.thread_stats(experiment.name)
    async with app.stores.db.connect() as conn:
        raw = (await conn.execute(sa.select(calls_t).order_by(calls_t.c.id))).all()
    assert {r.thread_id for r in rows} == {tid for tid, _ in threads.values()}
    for row in rows:
        mine = [c for c in raw if c.thread_id == row.thread_id and c.purpose == "answer"]
        assert row.calls == len(mine)
        assert row.cost_nano_usd == sum(c.cost_nano_usd for c in mine) > 0
        assert row.unpriced_calls == 0
        first = row.thread_id in {threads[n[0]][0] for n in by_variant.values()}
        second = row.thread_id in {threads[n[1]][0] for n in by_variant.values() if len(n) > 1}
        assert (row.solved, row.followed_up, row.thumbs_up) == (first, first, int(first))
        assert (row.thumbs_down, row.escalations) == (int(second), int(second))
        assert row.user_messages == 1 + int(first) + int(second)
        assert (row.judge_count, row.judge_total) == (
            (1, 7) if row.thread_id == a_thread else (0, 0)
        )
    # The judge call is counted on its own, never in the thread's cost.
    assert await data.judge_cost(experiment.name) == (1, 12_345)

    times = await data.timings(experiment.name)
    for variant in ("A", "B"):
        ids = {threads[n][0] for n in by_variant[variant]}
        latencies = [
            float(c.latency_ms)
            for c in raw
            if c.thread_id in ids and c.purpose == "answer" and c.status == "ok"
        ]
        ttfts = [float(c.ttft_ms) for c in raw if c.thread_id in ids and c.purpose == "answer"]
        assert times[variant].latency_p95_ms == percentile(latencies, 0.95)
        assert times[variant].ttft_p50_ms == percentile(ttfts, 0.5)

    # A window that ends before the follow-ups leaves them (and their cost) out.
    early = await data.thread_stats(
        experiment.name, Window(stop=raw[9].created_at + timedelta(microseconds=1))
    )
    assert sum(r.calls for r in early) == 10
    assert await data.thread_stats(experiment.name, Window(start=utcnow())) == []

    report = await build_report(data, experiment, utcnow())
    a, b = report.variants
    assert (a.threads, b.threads) == (len(by_variant["A"]), len(by_variant["B"]))
    assert a.solved.successes == 1 and a.thumbs_up.successes == 1
    assert a.judge.n == 1 and a.judge.value == 7.0
    assert report.judge_calls == 1 and report.recommendation is None
    text = render(report)
    assert "Experiment ab (running), control A" in text
    assert "judge score 7.00 n=1" in text

    # The daily digest gets one line per running experiment.
    (line,) = await experiment_digest_lines(data, app.routing.experiments, utcnow())
    assert line.startswith(f"Experiment ab: A {a.threads} threads $0.")
    assert line.endswith(report.verdict)
    notice = await app.digest.notice(utcnow().astimezone(app.digest.zone).date(), chart=False)
    assert ("Experiments", (line,)) in notice.notes
    stopped = replace(experiment, stop=utcnow() - timedelta(minutes=1))
    assert await experiment_digest_lines(data, [stopped], utcnow()) == []
