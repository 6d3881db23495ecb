"""Headless Chromium for the dashboard tests: Debian's chromium + chromedriver through Selenium,
started once per session, offline (no background networking), against a dashboard served from a
thread on the seeded ledger.

Without Chromium the browser tests skip, saying why; with SWITCHBOARD_REQUIRE_BROWSER=1 (CI sets
it, and `.ci/run` installs the packages) they fail instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.routing_setup import build_routing
from adapters.services import dashboard_service
from adapters.stores import Stores
from bot.settings import Settings
from storage.database import create_engine
from tests.adapters.web import seeded
from tests.adapters.web.serving import TOKEN, free_port

REQUIRE = os.environ.get("SWITCHBOARD_REQUIRE_BROWSER") == "1"
# Offline: without these Chromium keeps trying to reach Google's hosts (refused here).
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
    "--lang=en-US",
)  # fmt: skip


def _unavailable(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason}, but SWITCHBOARD_REQUIRE_BROWSER=1 requires the browser tests")
    pytest.skip(reason)


@dataclass(frozen=True)
class Served:
    base: str
    database_url: str
    settings: Settings


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Served]:
    """The dashboard on the seeded ledger, served by its own event loop in a thread."""
    directory = tmp_path_factory.mktemp("dashboard")
    shutil.copyfile(sqlite_template, directory / "ledger.db")
    url = f"sqlite+aiosqlite:///{directory / 'ledger.db'}"
    settings = Settings(_env_file=None, data_dir=directory, database_url=url,  # type: ignore[call-arg]
                        routing_file=seeded.routing_with_experiment(directory),
                        dashboard_token=TOKEN, **seeded.SETTINGS)  # fmt: skip
    port = free_port()
    ready, failed = threading.Event(), []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        engine = create_engine(url)
        try:
            await seeded.seed(engine)
            service = dashboard_service(settings, Stores.over(engine), build_routing(settings),
                                        port, lambda: seeded.NOW)  # fmt: skip
            task = asyncio.create_task(service())
            await asyncio.sleep(0)
            ready.set()
            await stop.wait()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        except BaseException as error:
            failed.append(error)
            ready.set()
        finally:
            await engine.dispose()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(60)
    if failed:
        raise failed[0]
    yield Served(f"http://127.0.0.1:{port}", url, settings)
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)
    loop.close()


@pytest.fixture(scope="session")
def chromium() -> tuple[str, str]:
    """Chromium and chromedriver, found before anything else is set up for them."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not binary or not driver:
        _unavailable("headless Chromium is not installed (apt-get install chromium "
                     "chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _unavailable("selenium is not installed (pip install -e '.[dev]')")
    return str(binary), str(driver)


@pytest.fixture(scope="session")
def browser(
    chromium: tuple[str, str], tmp_path_factory: pytest.TempPathFactory, served: Served
) -> Iterator[Any]:
    """One Chromium for the session, signed in to the dashboard with its token."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # response statuses
    # Given both paths, Selenium never runs its driver manager (which would go online).
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.set_page_load_timeout(30)
        # Basic auth, as a person's browser does it: the token as password, given once; Chrome
        # then sends it with every request to this origin, downloads included.
        driver.get(served.base.replace("http://", f"http://finance:{TOKEN}@") + "/static/style.css")
        yield driver
    finally:
        driver.quit()


def statuses(driver: Any) -> dict[str, int]:
    """HTTP status of each response the browser received since the last call, by URL."""
    found = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            found[response["url"]] = int(response["status"])
    return found
