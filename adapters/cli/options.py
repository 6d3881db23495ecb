"""Options several commands share: `--database`, and the settings it overrides."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import Settings, load_settings

DATABASE_HELP = (
    "the database: a postgresql:// URL or a SQLite file path (default: DATABASE_URL, else "
    "DATA_DIR/switchboard.db)"
)


def add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL|PATH", help=DATABASE_HELP)


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings, with `--database` (when given) in place of DATABASE_URL.

    A relative path on the command line is relative to the current directory, as in any
    shell command (DATABASE_URL's relative paths are relative to the Switchboard home).
    """
    database: str | None = getattr(args, "database", None)
    if not database:
        return load_settings()
    if "://" not in database:
        database = str(Path(database).expanduser().resolve())
    return load_settings(database_url=database)
