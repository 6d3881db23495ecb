"""The dashboard's pages over real HTTP, on SQLite and PostgreSQL: figures against the raw rows."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import httpx

from adapters.routing_setup import build_routing
from adapters.stores import Stores
from bot.experiments.report import build_report
from bot.spend.money import format_usd
from tests.adapters.web import seeded
from tests.adapters.web.oracle import between, call_rows, grouped, nano_of, text_of, totals
from tests.adapters.web.serving import dashboard, dashboard_settings
from tests.conftest import Database, MakeSettings
from tests.rows import call_values, insert_calls, make_thread

ZONE, TODAY = seeded.ZONE, seeded.NOW.date()


async def test_overview_figures_are_the_ledgers_local_days(
    client: httpx.AsyncClient, seeded_db: Database
) -> None:
    engine = seeded_db.engine()
    rows = await call_rows(engine)
    await engine.dispose()
    page = await client.get("/")
    assert page.status_code == 200
    html = page.text
    periods = {"today": (TODAY, TODAY), "month": (TODAY.replace(day=1), TODAY)}
    for key, (first, last) in periods.items():
        want = totals(between(rows, first, last, ZONE))
        assert nano_of(html, f"{key}-spend") == want.nano_usd, key
        assert text_of(html, f"{key}-spend") == format_usd(want.nano_usd)
        assert text_of(html, f"{key}-calls") == f"{want.calls:,}"
        assert text_of(html, f"{key}-errors") == f"{want.errors:,}"
        assert text_of(html, f"{key}-unpriced") == f"{want.unpriced:,}"
        assert nano_of(html, f"{key}-saved") == want.saved
    # The seeded edge calls make UTC days and local days disagree; the page counts local ones.
    utc_today = [r for r in rows if r["created_at"].date() == seeded.NOW.astimezone(ZONE).date()]
    assert totals(utc_today).nano_usd != nano_of(html, "today-spend")
    chart = nano_of(html, "chart-total")
    assert chart == totals(between(rows, TODAY - timedelta(days=29), TODAY, ZONE)).nano_usd
    today_bar = re.search(rf'data-day="{TODAY}" data-nano="(\d+)"', html)
    assert today_bar and int(today_bar.group(1)) == nano_of(html, "today-spend")
    assert "Daily budget (today)" in html and "of $0.0150" in html and "past 50%" in html
    assert "Daily budget per channel" in html and "C-billing (slack)" in html
    ninety = await client.get("/", params={"days": 90})
    assert 'data-day="' + str(TODAY - timedelta(days=89)) + '"' in ninety.text


async def test_breakdowns_sort_and_their_csv_has_the_same_rows(
    client: httpx.AsyncClient, seeded_db: Database
) -> None:
    engine = seeded_db.engine()
    rows = between(await call_rows(engine), TODAY - timedelta(days=89), TODAY, ZONE)
    await engine.dispose()
    period = {"since": str(TODAY - timedelta(days=89)), "until": str(TODAY)}
    want = grouped(rows, lambda r: r["model"])
    page = await client.get("/breakdowns", params={"by": "model", "sort": "calls", "order": "asc",
                                                   **period})  # fmt: skip
    assert page.status_code == 200
    shown = re.findall(r'<th scope="row" class="key">([^<]*)</th>\s*<td class="num" '
                       r'data-column="spend" data-nano="(\d+)">[^<]*</td>\s*<td class="num">'
                       r'[^<]*</td>\s*<td class="num" data-column="calls" data-value="(\d+)">',
                       page.text)  # fmt: skip
    assert [int(calls) for _, _, calls in shown] == sorted(t.calls for t in want.values())
    assert {key: int(nano) for key, nano, _ in shown} == {k: t.nano_usd for k, t in want.items()}
    download = await client.get("/breakdowns.csv", params={"by": "model", "sort": "calls",
                                                           "order": "asc", **period})  # fmt: skip
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["model"] for r in parsed] == [key for key, _, _ in shown]
    for row in parsed:
        expected = want[row["model"]]
        assert int(row["spend_nano_usd"]) == expected.nano_usd
        assert row["spend_usd"] == f"{expected.nano_usd // 10**9}.{expected.nano_usd % 10**9:09d}"
        assert (int(row["calls"]), int(row["errors"]), int(row["unpriced_calls"])) == (
            expected.calls, expected.errors, expected.unpriced)  # fmt: skip
        assert int(row["saved_nano_usd"]) == expected.saved
    calls = await client.get("/calls.csv", params=period)
    assert calls.headers["content-disposition"].startswith("attachment")
    exported = list(csv.DictReader(io.StringIO(calls.text)))
    assert sorted(int(r["id"]) for r in exported) == sorted(r["id"] for r in rows)
    assert totals(exported) == totals(rows)
    by_key = await client.get("/breakdowns", params={"by": "channel", "sort": "key", **period})
    keys = re.findall(r'<th scope="row" class="key">([^<]*)</th>', by_key.text)
    assert keys == sorted(seeded.CHANNELS, reverse=True)


async def test_quality_per_tier_says_not_enough_data_below_the_minimum(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/quality", params={"since": str(TODAY - timedelta(days=99)),
                                                "until": str(TODAY)})  # fmt: skip
    assert page.status_code == 200
    budget = re.search(r'<tr data-tier="budget">(.*?)</tr>', page.text, re.S)
    premium = re.search(r'<tr data-tier="premium">(.*?)</tr>', page.text, re.S)
    assert budget and premium
    # Budget answers were judged 5..9 by i % 5 over i = 0, 11, 22, ...: a mean of exactly 7.
    assert re.search(r'class="num judge">7\.00 <small>\[\d\.\d\d, \d\.\d\d\] n=1\d\d', budget[1])
    assert "not enough data (12 of 30)" in premium[1]
    shadow = re.search(r'<section id="shadow">(.*?)</section>', page.text, re.S)
    assert shadow  # the seeded comparisons: the answers budget gave, and its shadow answers
    given = re.search(r'<tr data-tier="budget" data-given="yes">(.*?)</tr>', shadow[1], re.S)
    shadowed = re.search(r'<tr data-tier="budget" data-given="no">(.*?)</tr>', shadow[1], re.S)
    assert given and "the answers it gave" in given[1]
    assert re.search(r"75\.0% <small>\[\d+\.\d%, \d+\.\d%\] n=40</small>", given[1])
    assert shadowed and "routed to premium (shadow only)" in shadowed[1]
    assert re.search(r"33\.3% <small>\[\d+\.\d%, \d+\.\d%\] n=36</small>", shadowed[1])
    assert re.search(r'id="solved">\d+<', page.text)


async def test_knowledge_page_counts_cited_answers_pages_and_gaps(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/knowledge", params={"since": str(TODAY - timedelta(days=99)),
                                                  "until": str(TODAY)})  # fmt: skip
    assert page.status_code == 200
    html = page.text
    assert text_of(html, "kb-questions") == "52"
    assert re.search(r'id="kb-cited">40 <small id="kb-share">\(77%\)</small>', html)
    assert (text_of(html, "kb-uncovered"), text_of(html, "kb-handed-off")) == ("11", "1")
    pages = re.findall(r'<a href="([^"]+)" rel="noopener noreferrer">([^<]+)</a></th>\s*'
                       r'<td class="num">(\d+)</td>', html)  # fmt: skip
    assert pages == [("https://help.acme.test/billing/", "Billing and invoices", "30"),
                     ("https://help.acme.test/sign-in/", "Signing in", "10")]  # fmt: skip
    gaps = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td>', html)
    assert gaps == [("refund", "9"), ("status page", "3")]
    assert "can I get a refund" not in html  # texts are hidden unless DASHBOARD_SHOW_TEXTS


async def test_experiments_page_gives_the_ab_report_verdict(
    client: httpx.AsyncClient, seeded_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> None:
    settings = dashboard_settings(make_settings, seeded_db, tmp_path)
    engine = seeded_db.engine()
    experiment = build_routing(settings).experiments[0]
    report = await build_report(Stores.over(engine).experiments, experiment, seeded.NOW)
    await engine.dispose()
    page = await client.get("/experiments")
    assert page.status_code == 200
    verdict = re.search(r'<p class="verdict"[^>]*><strong>Verdict:</strong> ([^<]*)</p>', page.text)
    assert verdict and verdict[1] == report.verdict.replace("'", "&#39;")
    assert report.verdict.startswith(("keep", "switch", "not enough"))
    assert page.text.count('<tr data-variant="') == 2


async def test_experiment_reports_are_kept_and_recomputed_in_the_background(
    seeded_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> None:
    from adapters.web.experiments import ExperimentReports

    settings = dashboard_settings(make_settings, seeded_db, tmp_path)
    engine = seeded_db.engine()
    ticks = iter(seeded.NOW + timedelta(minutes=n) for n in range(1000))
    reports = ExperimentReports(Stores.over(engine).experiments,
                                build_routing(settings).experiments, lambda: next(ticks),
                                refresh_s=0.01)  # fmt: skip
    try:
        first, again = await reports.latest(), await reports.latest()
        assert first is again and first.at == seeded.NOW  # kept, not recomputed per request
        for _ in range(500):
            if (await reports.latest()).at > first.at:
                break
            await asyncio.sleep(0.01)
        latest = await reports.latest()
        assert latest.at > first.at
        assert latest.views[0].report.verdict == first.views[0].report.verdict
    finally:
        await reports.close()
        await engine.dispose()


async def test_decisions_filter_and_thread_texts_only_when_allowed(
    client: httpx.AsyncClient, seeded_db: Database, make_settings: MakeSettings, tmp_path: Path
) -> None:
    page = await client.get("/decisions", params={"channel": "slack/W1/C-billing",
                                                  "tier": "premium"})  # fmt: skip
    assert page.status_code == 200
    rows = re.findall(r'<tr data-call="\d+">(.*?)</tr>', page.text, re.S)
    assert rows and all("C-billing" in r and 'data-tier="premium"' in r for r in rows)
    everything = await client.get("/decisions")
    assert len(re.findall(r'<tr data-call="', everything.text)) == 50
    older = re.search(r'href="(/decisions\?before=\d+)"', everything.text)
    assert older
    second = await client.get(older[1])
    first_ids = [int(i) for i in re.findall(r'<tr data-call="(\d+)"', everything.text)]
    second_ids = [int(i) for i in re.findall(r'<tr data-call="(\d+)"', second.text)]
    assert len(second_ids) == 50 and not set(first_ids) & set(second_ids)
    thread = re.findall(r'href="(/threads/\d+)"', page.text)[0]
    hidden = await client.get(thread)
    assert hidden.status_code == 200 and "(text hidden)" in hidden.text
    assert seeded.SECRET_QUESTION not in hidden.text and "4111" not in hidden.text
    settings = dashboard_settings(make_settings, seeded_db, tmp_path, dashboard_show_texts=True)
    async with dashboard(settings, seeded_db) as allowed:
        shown = await allowed.get(thread)
    assert seeded.SECRET_QUESTION in shown.text
    assert (await client.get("/threads/999999")).status_code == 404


async def test_every_page_needs_the_token_and_bad_parameters_are_refused(
    client: httpx.AsyncClient,
) -> None:
    paths = ("/", "/breakdowns", "/breakdowns.csv", "/calls.csv", "/quality", "/experiments",
             "/decisions", "/threads/1", "/static/style.css")  # fmt: skip
    for path in paths:
        refused = await client.get(path, headers={"Authorization": ""})
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"].startswith("Basic realm=")
        assert "Content-Security-Policy" in refused.headers
        wrong = await client.get(path, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401, path
    basic = httpx.BasicAuth("anyone", client.headers["Authorization"].removeprefix("Bearer "))
    assert (await client.get("/", headers={"Authorization": ""}, auth=basic)).status_code == 200
    for path, params in (("/breakdowns", {"by": "secret"}), ("/breakdowns", {"sort": "x"}),
                         ("/quality", {"since": "yesterday"}), ("/", {"days": "7"}),
                         ("/", {"days": "ninety"}), ("/breakdowns", {"since": "2025-01-01"}),
                         ("/quality", {"since": "2026-11-02", "until": "2026-11-01"}),
                         ("/decisions", {"before": "1 OR 1=1"}),
                         ("/decisions", {"channel": "C-billing"})):  # fmt: skip
        assert (await client.get(path, params=params)).status_code == 400, (path, params)
    ok = await client.get("/")
    assert "script-src" not in ok.headers["content-security-policy"]  # default-src 'none'
    assert "<script" not in ok.text


async def test_routing_that_cost_more_says_so_and_formula_cells_are_quoted(
    database: Database, make_settings: MakeSettings, tmp_path: Path
) -> None:
    """Issue 21 item 8: the words a payer reads when routing cost more than the baseline, and
    a channel or user that starts like a spreadsheet formula, in both CSV downloads."""
    engine = database.engine()
    channel, user = '=HYPERLINK("http://x.example","click")', "@SUM(1)"
    thread = await make_thread(engine, channel=channel, platform="slack")
    await insert_calls(engine, [call_values(
        thread, seeded.NOW - timedelta(hours=1), platform="slack", channel=channel, user=user,
        cost_nano_usd=38_400_000, baseline_cost_nano_usd=1_785_000)])  # fmt: skip
    await engine.dispose()
    async with dashboard(dashboard_settings(make_settings, database, tmp_path), database) as client:
        page = (await client.get("/")).text
        calls = (await client.get("/calls.csv")).text
        by_channel = (await client.get("/breakdowns.csv", params={"by": "channel"})).text
    saved = re.search(r'<dd id="today-saved"[^>]*>([^<]*)</dd>', page)
    assert saved and saved[1] == "$0.0366 more than the baseline (+2051%)", saved
    assert "$-" not in page and "-2051%" not in page
    assert "$0.0366 (2051%) more than what <code>anthropic/claude-opus-4-5</code>" in page
    [row] = list(csv.DictReader(io.StringIO(calls)))
    assert (row["channel"], row["user"]) == ("'" + channel, "'" + user)  # shown, never run
    [group] = list(csv.DictReader(io.StringIO(by_channel)))
    assert group["channel"] == "'" + channel
