"""`switchboard db upgrade`: apply database migrations."""

from __future__ import annotations

import argparse
import asyncio

from bot.settings import load_settings
from storage.database import create_engine, upgrade


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    db = subparsers.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="apply migrations up to the latest revision")
    up.add_argument("--revision", default="heads")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def run() -> None:
        engine = create_engine(settings.resolved_database_url)
        try:
            await upgrade(engine, args.revision)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(f"database upgraded to {args.revision}")
    return 0
