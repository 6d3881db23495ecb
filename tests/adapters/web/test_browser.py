"""The dashboard in a real browser (headless Chromium): its figures against `switchboard report`
over the same local days, sorting and CSV download by clicking, the token, and a screenshot of
each page for the README (docs/screenshots/, written by these tests)."""

from __future__ import annotations

import csv
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.main import main
from tests.adapters.web import seeded
from tests.adapters.web.browser import Served, statuses
from tests.adapters.web.oracle import grouped, totals

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
TODAY = seeded.NOW.date()
PAGES: tuple[tuple[str, str | None, str], ...] = (  # name, path, heading
    ("overview", "/", "Overview"),
    ("breakdowns", f"/breakdowns?by=model&since={TODAY - timedelta(days=29)}&until={TODAY}",
     "Spend by model"),
    ("quality", f"/quality?since={TODAY - timedelta(days=89)}&until={TODAY}", "Quality"),
    ("knowledge", f"/knowledge?since={TODAY - timedelta(days=89)}&until={TODAY}", "Knowledge"),
    ("experiments", "/experiments", "Experiments"),
    ("decisions", "/decisions", "Routing decisions"),
    ("thread", None, "Thread"),  # a thread with an escalation, found on the Decisions page
)  # fmt: skip


def by_css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def follow(driver: Any, selector: str) -> None:
    """Click a link or submit button and wait until the page it leads to has replaced this one
    (a click returns before the navigation ends; reading rows at once can read the old page)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A mark on this document's window: the next document starts without it. (Selenium's
    # staleness_of asks the old node, and Chromium may answer that with an inspector error.)
    driver.execute_script("window.switchboardOldPage = true")
    by_css(driver, selector).click()
    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return !window.switchboardOldPage && document.readyState === 'complete'"
        )
    )


def report_rows(served: Served, first: date, last: date, monkeypatch: pytest.MonkeyPatch,
                out: Path) -> list[dict[str, str]]:  # fmt: skip
    """`switchboard report --since --until` over the dashboard's database, as a user runs it."""
    monkeypatch.setenv("DATABASE_URL", served.database_url)
    monkeypatch.setenv("TIMEZONE", seeded.ZONE.key)
    assert main(["report", "--since", str(first), "--until", str(last), "-o", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def dollars(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", ""))


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def test_overview_totals_equal_switchboard_report_to_the_cent(
    browser: Any, served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    browser.get(served.base + "/")
    assert by_css(browser, "h1").text == "Overview"
    for key, first in (("today", TODAY), ("month", TODAY.replace(day=1))):
        rows = report_rows(served, first, TODAY, monkeypatch, tmp_path / f"{key}.csv")
        want = totals(rows)
        reported = sum((Decimal(r["cost_usd"]) for r in rows if r["cost_usd"]), Decimal(0))
        spend = by_css(browser, f"#{key}-spend")
        assert cents(dollars(spend.text)) == cents(reported), key
        assert int(spend.get_attribute("data-nano")) == want.nano_usd, key
        assert by_css(browser, f"#{key}-calls").text == f"{want.calls:,}"
        assert by_css(browser, f"#{key}-errors").text == f"{want.errors:,}"
        assert by_css(browser, f"#{key}-unpriced").text == f"{want.unpriced:,}"
        assert int(by_css(browser, f"#{key}-saved").get_attribute("data-nano")) == want.saved
    bar = by_css(browser, f'g.day[data-day="{TODAY}"]')
    assert bar.get_attribute("data-nano") == by_css(browser, "#today-spend").get_attribute(
        "data-nano"
    )
    follow(browser, 'a[href="/?days=90"]')
    assert len(all_css(browser, "g.day")) == 90


def test_breakdown_sorts_by_a_clicked_column_and_downloads_its_rows_and_the_reports_as_csv(
    browser: Any, served: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = TODAY - timedelta(days=29)
    browser.get(f"{served.base}/breakdowns?by=channel&since={first}&until={TODAY}")
    follow(browser, 'th a[data-sort="calls"]')
    assert "sort=calls" in browser.current_url and "order=desc" in browser.current_url

    def column(name: str) -> list[int]:
        return [int(td.get_attribute("data-value")) for td in
                all_css(browser, f'#breakdown td[data-column="{name}"]')]  # fmt: skip

    assert column("calls") == sorted(column("calls"), reverse=True)
    follow(browser, 'th a[data-sort="calls"]')
    assert "order=asc" in browser.current_url
    assert column("calls") == sorted(column("calls"))
    shown = [th.text for th in all_css(browser, "#breakdown th.key")]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})  # fmt: skip
    by_css(browser, "#csv").click()
    target = downloads / f"switchboard-channel-{first}-{TODAY}.csv"
    deadline = time.monotonic() + 15
    while not target.exists():
        assert time.monotonic() < deadline, f"no download in {list(downloads.iterdir())}"
        time.sleep(0.05)
    with target.open(newline="", encoding="utf-8") as f:
        downloaded = list(csv.DictReader(f))
    assert [r["channel"] for r in downloaded] == shown
    report_file = tmp_path / "report.csv"
    report = grouped(report_rows(served, first, TODAY, monkeypatch, report_file),
                     lambda r: r["channel"])  # fmt: skip
    assert {r["channel"] for r in downloaded} == set(report)
    for row in downloaded:
        want = report[row["channel"]]
        assert int(row["spend_nano_usd"]) == want.nano_usd
        assert (int(row["calls"]), int(row["errors"]), int(row["unpriced_calls"])) == (
            want.calls, want.errors, want.unpriced)  # fmt: skip
    by_css(browser, "#calls-csv").click()
    calls = downloads / f"switchboard-calls-{first}-{TODAY}.csv"
    while not calls.exists():
        assert time.monotonic() < deadline + 15, f"no download in {list(downloads.iterdir())}"
        time.sleep(0.05)
    assert calls.read_bytes() == report_file.read_bytes()  # byte for byte `switchboard report`


def test_a_request_without_the_token_is_refused(browser: Any, served: Served) -> None:
    # Another origin for the same server (localhost, not 127.0.0.1): no credentials cached.
    unsigned = served.base.replace("127.0.0.1", "localhost") + "/"
    statuses(browser)
    browser.get(unsigned)
    assert statuses(browser)[unsigned] == 401  # the browser now asks for a user and password
    assert not all_css(browser, "#month-spend")
    browser.get(served.base + "/")
    assert statuses(browser)[served.base + "/"] == 200
    assert all_css(browser, "#month-spend")


def test_decisions_filter_and_a_threads_turns_open_on_click(browser: Any, served: Served) -> None:
    from selenium.webdriver.support.ui import Select

    browser.get(served.base + "/decisions")
    Select(by_css(browser, 'select[name="channel"]')).select_by_value("slack/W1/C-billing")
    Select(by_css(browser, 'select[name="tier"]')).select_by_value("premium")
    follow(browser, "form.filters button")
    rows = all_css(browser, "#decisions tbody tr")
    assert rows and all("C-billing" in r.text and "premium" in r.text for r in rows)
    follow(browser, "#decisions tbody tr a")
    assert by_css(browser, "h1").text.startswith("Thread")
    assert "(text hidden)" in browser.page_source
    assert seeded.SECRET_QUESTION not in browser.page_source


def test_quality_tells_the_answers_a_tier_gave_from_its_shadow_answers(
    browser: Any, served: Served
) -> None:
    """Budget's 40 answers (30 matched premium) and 36 shadow answers to premium-routed
    questions (12 matched) are two rows, never one mixed share."""
    browser.get(f"{served.base}/quality?since={TODAY - timedelta(days=99)}&until={TODAY}")
    found = all_css(browser, "#comparisons tbody tr")
    rows = {r.get_attribute("data-given"): r.text for r in found}
    assert set(rows) == {"yes", "no"}, rows
    assert "the answers it gave" in rows["yes"], rows
    assert "75.0%" in rows["yes"] and "n=40" in rows["yes"]
    assert "routed to premium (shadow only)" in rows["no"]
    assert "33.3%" in rows["no"] and "n=36" in rows["no"]
    assert "63.2%" not in browser.page_source  # (30 + 12) / (40 + 36): the mix is not shown


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_fits_the_screen_and_is_screenshot(
    browser: Any, served: Served, width: int
) -> None:
    """1280 px (a laptop) and 390 px (a phone): no page scrolls sideways (wide tables scroll
    inside their box). The laptop screenshots, and the phone's overview, go to docs/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, heading in PAGES:
        browser.set_window_size(width, 900)
        if path is None:  # escalations are answered one tier up: balanced, here
            browser.get(served.base + "/decisions?tier=balanced")
            rows = all_css(browser, "#decisions tbody tr")
            escalated = [r for r in rows if "escalated" in r.text]
            path = escalated[0].find_element("css selector", "a").get_attribute("href")
        browser.get(path if path.startswith("http") else served.base + path)
        assert by_css(browser, "h1").text.startswith(heading), name
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{name} at {width} px is {overflow} px too wide"
        if width == 1280 or name == "overview":
            height = browser.execute_script("return document.documentElement.scrollHeight")
            browser.set_window_size(width, min(height, 1400))  # the top of a long page
            suffix = "" if width == 1280 else "-phone"
            assert browser.save_screenshot(str(SCREENSHOTS / f"dashboard-{name}{suffix}.png"))
    browser.set_window_size(1280, 900)


def test_on_a_phone_the_spend_chart_opens_on_today_with_readable_labels(
    browser: Any, served: Served
) -> None:
    """Issue 21 item 8: 390 px wide, the chart scrolls inside its box; it must open on the
    newest days (today's bar in view) and its labels must stay readable (11 px or more)."""
    browser.set_window_size(390, 900)
    try:
        browser.get(served.base + "/")
        seen = browser.execute_script(
            """
            const box = document.querySelector('.chart-box').getBoundingClientRect();
            const today = document.querySelector(`g.day[data-day="${arguments[0]}"] rect`)
                .getBoundingClientRect();
            const svg = document.querySelector('svg.chart');
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const sizes = [...svg.querySelectorAll('text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * scale);
            return [today.left >= box.left && today.right <= box.right, Math.min(...sizes)];
            """,
            str(TODAY),
        )
        assert seen[0], "today's bar is off screen when the page opens"
        assert seen[1] >= 11, f"chart labels are {seen[1]:.1f} px on a phone"
    finally:
        browser.set_window_size(1280, 900)
