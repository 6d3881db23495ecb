from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from adapters.cli.main import main
from adapters.composition import build
from bot.errors import ConfigError
from bot.settings import Settings
from storage.database import create_engine
from tests.bot.experiments.helpers import ask, fixed_ab, routing_file
from tests.conftest import migrated_copy
from tests.fakes import FakeProvider


async def fill(url: str, routing: Path) -> None:
    settings = Settings(
        _env_file=None,
        database_url=url,
        routing_file=routing,  # type: ignore[call-arg]
        llm_api_key="k",
    )
    app = await build(settings, db=create_engine(url), provider=FakeProvider())
    try:
        for i in range(6):
            await ask(app, f"t{i}", f"How do I cancel order {i}?", f"e{i}")
    finally:
        await app.close()


def test_ab_report_json_and_list(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sqlite_template: Path,
) -> None:
    routing = routing_file(tmp_path, fixed_ab(target=50))
    url = f"sqlite+aiosqlite:///{migrated_copy(sqlite_template, tmp_path / 'cli.db')}"
    asyncio.run(fill(url, routing))
    monkeypatch.setenv("ROUTING_FILE", str(routing))
    assert main(["ab", "report", "ab", "--json", "--database", url]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in report["variants"]] == ["A", "B"]
    assert sum(v["threads"] for v in report["variants"]) == 6
    assert report["recommendation"] is None
    assert report["verdict"].startswith("not enough data yet:")
    assert main(["ab", "report", "ab", "--database", url]) == 0
    assert "Verdict: not enough data yet:" in capsys.readouterr().out
    assert main(["ab", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("ab  [running]") and "A=fixed openai/gpt-4o (weight 1)" in listed
    assert main(["ab", "report", "nope", "--database", url]) == 2
    assert "no experiment named 'nope'" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        from adapters.cli.commands.ab import _experiments

        monkeypatch.setenv(
            "ROUTING_FILE", str(routing_file(tmp_path, "[[experiments]]\nname='x'\n", "bad.toml"))
        )
        _experiments()
