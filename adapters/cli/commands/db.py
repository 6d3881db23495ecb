"""`switchboard db upgrade`: apply database migrations, and say what actually changed."""

from __future__ import annotations

import argparse
import asyncio

from adapters.cli.options import add_database, settings_for
from adapters.database import applied, explain, known_revision, open_database, revisions
from bot.errors import ConfigError
from storage.database import MigrationFailed, upgrade


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations up to the latest revision")
    up.add_argument(
        "--revision", default="heads", help="stop at this revision (default: heads, the latest)"
    )
    add_database(up)
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    settings = settings_for(args)
    known_revision(args.revision)

    async def run() -> str:
        engine = await open_database(settings, migrate=False)
        try:
            before = await revisions(engine)
            if applied(args.revision, before):
                if args.revision in ("head", "heads") or args.revision in before.current:
                    return f"database {settings.database_shown} already at {before.describe()}"
                raise ConfigError(
                    f"the database is at {before.describe()}, newer than {args.revision}: "
                    "`db upgrade` never downgrades"
                )
            try:
                await upgrade(engine, args.revision)
            except MigrationFailed as error:
                raise ConfigError(": ".join(explain(error, settings) or (str(error),))) from error
            after = await revisions(engine)
        finally:
            await engine.dispose()
        return (
            f"database {settings.database_shown} upgraded from {before.describe()} "
            f"to {after.describe()}"
        )

    print(asyncio.run(run()))
    return 0
