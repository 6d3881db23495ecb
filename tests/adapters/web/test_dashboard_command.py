"""`switchboard dashboard`: the README's one command, with only DATABASE_URL (no bot tokens)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from adapters.cli.main import main
from storage.database import create_engine
from tests.adapters.web import seeded
from tests.adapters.web.serving import TOKEN, free_port
from tests.conftest import migrated_copy


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A clean environment with a DATABASE_URL, as a finance owner would have it."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "DISCORD_", "LLM_", "DASHBOARD_", "METRICS_")):
            monkeypatch.delenv(name)
    database = tmp_path / "ledger.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.chdir(tmp_path)
    return database


def test_an_open_address_without_a_token_is_refused_in_one_line_before_the_database(
    environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboard", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "switchboard: DASHBOARD_HOST=0.0.0.0 is reachable from other machines: set "
        "DASHBOARD_TOKEN (a long random string) or bind DASHBOARD_HOST=127.0.0.1\n"
    )
    assert not environment.exists()


def test_a_port_in_use_is_one_line_naming_the_setting(
    environment: Path, capsys: pytest.CaptureFixture[str], sqlite_template: Path
) -> None:
    migrated_copy(sqlite_template, environment)  # a deployment's ledger, not its first start
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith(f"switchboard: cannot serve the dashboard on 127.0.0.1:{port} (")
    assert lines[-1].endswith("choose another DASHBOARD_PORT or DASHBOARD_HOST")
    assert len(lines) == 2  # the address it tried, then the error: no traceback


def test_the_command_serves_the_pages_with_only_database_url_and_a_token(
    environment: Path, tmp_path: Path, sqlite_template: Path
) -> None:
    """Runs the installed `switchboard` in its own process (about 2-4 s of start-up on this
    machine): the only test of the command as the README gives it."""

    async def seed() -> None:
        migrated_copy(sqlite_template, environment)
        engine = create_engine(os.environ["DATABASE_URL"])
        await seeded.seed(engine)
        await engine.dispose()

    asyncio.run(seed())
    port = free_port()
    env = {**os.environ, "DASHBOARD_PORT": str(port), "DASHBOARD_TOKEN": TOKEN,
           "TIMEZONE": seeded.ZONE.key}  # fmt: skip
    command = Path(sys.executable).with_name("switchboard")
    server = subprocess.Popen([str(command), "dashboard"], env=env, cwd=tmp_path,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            while True:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                try:
                    refused = client.get("/")
                    break
                except httpx.ConnectError:
                    assert time.monotonic() < deadline, "the dashboard did not start in 60 s"
                    time.sleep(0.1)
            page = client.get("/breakdowns", params={"since": "2026-08-01",
                                                     "until": "2026-11-20"},
                              auth=("finance", TOKEN))  # fmt: skip
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert refused.status_code == 401
    assert page.status_code == 200 and "C-billing" in page.text
    assert f"Switchboard dashboard on http://127.0.0.1:{port}/" in err
    assert TOKEN not in err
