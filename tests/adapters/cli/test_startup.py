"""Start-up cost: `switchboard --help` and `route` import only what they use (bench/ times it)."""

from __future__ import annotations

import argparse

from adapters.cli.main import COMMAND_MODULES, COMMANDS, parser
from tests.imports import modules_after

HEAVY = ("sqlalchemy", "sqlmodel", "pydantic", "httpx", "aiohttp", "slack_bolt", "discord",
         "numpy", "scipy", "matplotlib", "alembic", "prometheus_client", "rich")  # fmt: skip


def imported_after(code: str) -> set[str]:
    return {name.split(".")[0] for name in modules_after(code)}


def test_help_imports_none_of_the_heavy_libraries() -> None:
    found = imported_after("from adapters.cli.main import parser\nparser().format_help()")
    assert found.isdisjoint(HEAVY), found & set(HEAVY)


def test_route_imports_no_database_http_or_platform_library() -> None:
    found = imported_after(
        "import contextlib, io\nfrom adapters.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['route', 'hi'])"
    )
    assert found.isdisjoint({"sqlalchemy", "httpx", "aiohttp", "slack_bolt", "discord", "numpy"})


def test_the_help_table_matches_what_the_command_modules_register() -> None:
    full = parser(every=True)
    actions = [a for a in full._actions if isinstance(a, argparse._SubParsersAction)]
    registered = {c.dest: c.help for c in actions[0]._choices_actions}
    assert registered == {name: help_text for name, (_, help_text) in COMMANDS.items()}
    assert set(COMMAND_MODULES) == {module for module, _ in COMMANDS.values()}


def test_only_the_named_command_module_is_imported() -> None:
    argv = ["-v", "route", "hi"]
    code = f"from adapters.cli.main import parser\nparser({argv}).parse_args({argv})"
    loaded = {m for m in modules_after(code) if m.startswith("adapters.cli.commands.")}
    assert loaded == {"adapters.cli.commands.route"}
