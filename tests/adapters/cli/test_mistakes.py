"""Every mistake from issue 11, made as a user makes it: one line on stderr naming the fix,
exit code 2, never a traceback, and nothing created that was not there.

Most cases run `main([...])` in-process (fast). The broken pipe is a property of the process
and its stdout, so that case runs the real `switchboard` entry point in a subprocess.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from adapters.cli.main import main
from adapters.llm.simulator import LLMSimulator
from bot.errors import ConfigError
from storage.database import alembic_config, create_engine, upgrade
from tests.adapters.cli.environment import only_env
from tests.adapters.slack.fake_slack import FakeSlack
from tests.bot.experiments.helpers import fixed_ab, routing_file
from tests.conftest import PG_URL

SWITCHBOARD = Path(sys.executable).with_name("switchboard")


@dataclass
class Case:
    argv: list[str]
    says: str  # the start of the line after "switchboard: "
    env: dict[str, Any] = field(default_factory=dict)
    prepare: Callable[[Path, dict[str, Any]], Awaitable[None]] | None = None
    needs: str = ""  # "postgres" | "simulator" | "slack"


async def migrated(path: Path, revision: str = "heads") -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine, revision)
    await engine.dispose()


async def newer_database(home: Path, env: dict[str, Any]) -> None:
    await migrated(home / "var" / "switchboard.db")


async def dangling_reference(home: Path, env: dict[str, Any]) -> None:
    """A ledger from an older version holding a post whose call is gone (foreign keys were not
    enforced on every connection then): migration 0006 cannot keep that reference."""
    path = home / "var" / "switchboard.db"
    await migrated(path, "0004")
    with sqlite3.connect(path) as db:  # a plain connection: foreign keys not enforced
        db.execute("INSERT INTO posts (platform, external_id, call_id, created_at) VALUES "
                   "('slack', 'p1', 12345, '2026-11-01 00:00:00.000000')")  # fmt: skip


async def an_experiment(home: Path, env: dict[str, Any]) -> None:
    env["ROUTING_FILE"] = str(routing_file(home, fixed_ab(target=50)))


def pg_missing() -> str:
    base = PG_URL.rsplit("/", 1)[0].replace("+asyncpg", "")
    return f"{base}/switchboard_missing_{uuid.uuid4().hex[:8]}"


async def not_utf8_routing(home: Path, env: dict[str, Any]) -> None:
    (home / "routing.toml").write_bytes(b'[tiers]\nbudget = ["caf\xe9"]\n')  # Latin-1
    env["ROUTING_FILE"] = "routing.toml"


async def a_file(home: Path, env: dict[str, Any]) -> None:
    (home / "afile").write_text("not a folder")


async def a_picture(home: Path, env: dict[str, Any]) -> None:
    (home / "elsewhere" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")


RUN_SLACK = {"SLACK_BOT_TOKEN": "xoxb-wrong", "SLACK_APP_TOKEN": "xapp-good"}
CASES: dict[str, Case] = {
    "route --jsonl a missing file": Case(
        ["route", "--jsonl", "missing.jsonl"], "cannot use missing.jsonl: No such file"
    ),
    "router eval without its data": Case(["router", "eval"], "router eval: --data-dir PATH"),
    "router eval with a missing data folder": Case(
        ["router", "eval", "--data-dir", "no-such-dir"],
        "router eval: data folder no-such-dir does not exist",
    ),
    "router train with a missing data folder": Case(
        ["router", "train", "--data-dir", "no-such-dir", "--out", "model.json"],
        "router train: data folder no-such-dir does not exist",
    ),
    "ab report --database with a path that has no database": Case(
        ["ab", "report", "ab", "--database", "var/ab.db"],
        "no database at {cwd}/var/ab.db",
        prepare=an_experiment,
    ),
    "db upgrade --revision bogus": Case(
        ["db", "upgrade", "--revision", "bogus"], "unknown revision 'bogus' (known: 0001"
    ),
    "db upgrade --revision 0001 on a newer database": Case(
        ["db", "upgrade", "--revision", "0001"],
        "the database is at {heads}, newer than 0001: `db upgrade` never downgrades",
        prepare=newer_database,
    ),
    "DATABASE_URL names a missing PostgreSQL database": Case(
        ["spend"], 'PostgreSQL database "switchboard_missing_', {"DATABASE_URL": pg_missing},
        needs="postgres",
    ),
    "DATABASE_URL=mysql://": Case(
        ["spend"],
        "invalid setting DATABASE_URL='mysql://root:***@db:3306/sb': unsupported database",
        {"DATABASE_URL": "mysql://root:hunter2@db:3306/sb"},
    ),
    "a bad number": Case(
        ["spend"], "invalid setting LLM_MAX_RETRIES='many': Input should be a valid integer",
        {"LLM_MAX_RETRIES": "many"},
    ),
    "a bad channel id list": Case(
        ["run"], "invalid setting DISCORD_HELP_CHANNEL_IDS", {"DISCORD_HELP_CHANNEL_IDS": "#help"}
    ),
    "BUDGET_DAILY_USD=1e308": Case(
        ["spend"], "invalid setting BUDGET_DAILY_USD='1e308': at most 1000000000 (USD)",
        {"BUDGET_DAILY_USD": "1e308"},
    ),
    "BUDGET_ALERT_THRESHOLDS=0,-20,5000": Case(
        ["spend"], "invalid setting BUDGET_ALERT_THRESHOLDS='0,-20,5000': each threshold is a "
        "percentage of the budget from 1 to 1000 (got 0, -20, 5000)",
        {"BUDGET_ALERT_THRESHOLDS": "0,-20,5000"},
    ),
    "ROUTING_FILE that is not UTF-8": Case(
        ["route", "hello"], "ROUTING_FILE: {home}/routing.toml is not UTF-8 text",
        prepare=not_utf8_routing,
    ),
    "ROUTING_FILE that is a folder": Case(
        ["route", "hello"], "invalid setting ROUTING_FILE='{home}': a folder, not a file",
        {"ROUTING_FILE": "{home}"},
    ),
    "DATA_DIR that is a file": Case(
        ["spend"], "invalid setting DATA_DIR='afile': a file, not a folder",
        {"DATA_DIR": "afile"}, prepare=a_file,
    ),
    "SLACK_BOT_TOKEN with a line break": Case(
        ["run"], "invalid setting SLACK_BOT_TOKEN=(hidden): contains a line break or a space",
        {"SLACK_BOT_TOKEN": "xoxb-good\nxoxb-other", "SLACK_APP_TOKEN": "xapp-good"},
        needs="slack",
    ),
    "LLM_BASE_URL=not a url": Case(
        ["ask", "hi"], "invalid setting LLM_BASE_URL='not a url': expected an http(s) URL",
        {"LLM_BASE_URL": "not a url"},
    ),
    "spend with no database": Case(["spend"], "no database at {home}/var/switchboard.db"),
    "report with no database": Case(
        ["report", "--since", "2026-01-01"], "no database at {home}/var/switchboard.db"
    ),
    "digest with no database": Case(["digest"], "no database at {home}/var/switchboard.db"),
    "db upgrade of a ledger with a dangling reference": Case(
        ["db", "upgrade"],
        "the upgrade of {home}/var/switchboard.db stopped, nothing was changed: 1 row(s) refer "
        "to rows that do not exist, e.g. row 1 of posts to a missing row of calls",
        prepare=dangling_reference,
    ),
    "kb add a missing folder": Case(["kb", "add", "no-such-docs"],
                                    "no-such-docs: no such file or folder"),
    "kb add a picture": Case(["kb", "add", "logo.png"], "logo.png: not a Markdown, HTML or text "
                             "file", prepare=a_picture),
    "kb add --url-base that is not a URL": Case(
        ["kb", "add", ".", "--url-base", "docs.acme.test"],
        "--url-base 'docs.acme.test' is not an http(s) URL",
    ),
    "kb search with no database": Case(["kb", "search", "vat"],
                                       "no database at {home}/var/switchboard.db"),
    "kb sync with nothing added": Case(["kb", "sync"], "nothing to sync: no folder was added"),
    "run with no platform": Case(["run"], "no platform is configured, so there is nothing to run"),
    "run without LLM_API_KEY": Case(
        ["run"], "LLM_API_KEY is not set", {"DISCORD_BOT_TOKEN": "t", "LLM_API_KEY": None}
    ),
    "run with a wrong Slack token": Case(
        ["run"], "Slack: auth.test refused SLACK_BOT_TOKEN (invalid_auth)", RUN_SLACK,
        needs="slack",
    ),
    "run with Discord and no network": Case(
        ["run"], "Discord: cannot reach Discord (", {"DISCORD_BOT_TOKEN": "t"}, needs="simulator"
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
async def test_a_mistake_gets_one_line_and_exit_code_2(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = CASES[name]
    if case.needs == "postgres" and not PG_URL:
        pytest.skip("PostgreSQL not configured (set SWITCHBOARD_TEST_POSTGRES_URL)")
    cwd = tmp_path / "elsewhere"  # not the home: the data must not depend on the directory
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    env: dict[str, Any] = {"LLM_API_KEY": "test-key", **case.env}
    if case.prepare is not None:
        await case.prepare(tmp_path, env)
    async with LLMSimulator(speed=0) as llm, FakeSlack(tokens={"xoxb-good", "xapp-good"}) as slack:
        env.setdefault("LLM_BASE_URL", llm.base_url)
        if case.needs == "slack":
            env["SLACK_API_URL"] = slack.base_url
        values = {k: v() if callable(v) else v.format(home=tmp_path) if isinstance(v, str) else v
                  for k, v in env.items() if v is not None}  # fmt: skip
        with contextlib.suppress(ConfigError):  # a bad setting: main() must say so, below
            only_env(monkeypatch, **values)
        # main() runs its own event loop: a worker thread, so the stand-ins keep serving.
        code = await asyncio.wait_for(asyncio.to_thread(main, case.argv), 60)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    heads = ", ".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    expected = case.says.format(home=tmp_path, cwd=cwd, heads=heads)
    assert code == 2, (out, err)
    assert len(lines) == 1 and lines[0].startswith(f"switchboard: {expected}"), err
    assert "hunter2" not in err
    assert not (cwd / "var").exists()  # nothing created where the command happened to run
    if "no database" in expected:
        assert not (tmp_path / "var" / "switchboard.db").exists()


def test_report_into_a_closed_pipe_stops_with_one_line(tmp_path: Path) -> None:
    """`switchboard report ... | head`: the reader is gone before the report is written."""
    asyncio.run(migrated(tmp_path / "var" / "switchboard.db"))
    names = {name.upper() for name in __import__("bot.settings").settings.Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env["SWITCHBOARD_HOME"] = str(tmp_path)
    process = subprocess.Popen(
        [str(SWITCHBOARD), "report", "--since", "2026-01-01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # like `| head` that has already exited
    err = process.stderr.read().decode()
    code = process.wait(timeout=60)
    assert code == 2, err
    assert err.strip().splitlines() == [
        "switchboard: output closed before the command finished (broken pipe); stopped"
    ]
