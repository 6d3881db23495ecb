"""Opening the database DATABASE_URL (or `--database`) names, with errors a user can act on.

Every command and `switchboard run` open it here: a missing PostgreSQL database, a refused
password or an unreachable host end in one `ConfigError` line naming the fix, not a driver
traceback. Read-only commands open with `create=False`: a missing SQLite file or a database
without Switchboard's tables is reported with where we looked, and nothing is created.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ConfigError
from bot.settings import Settings
from storage import migration_heads
from storage.database import MigrationFailed, alembic_config, create_engine, upgrade

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


class NoDatabase(ConfigError):
    """There is no Switchboard database where the settings point (and we did not create one)."""


@dataclass(frozen=True)
class Revisions:
    current: frozenset[str]  # empty: no Switchboard tables yet
    heads: frozenset[str]  # what this code's migrations end at

    @property
    def latest(self) -> bool:
        return self.current == self.heads

    def describe(self, ids: frozenset[str] | None = None) -> str:
        return ", ".join(sorted(self.current if ids is None else ids)) or "empty"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and in-memory SQLite)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return Path(path) if path and path != ":memory:" else None


def explain(error: BaseException, settings: Settings) -> tuple[str, str] | None:
    """(what went wrong, the fix) for a failure to open the database, or None when unknown."""
    url = make_url(settings.resolved_database_url)
    where = settings.database_shown
    for cause in _chain(error):
        if isinstance(cause, MigrationFailed):
            return (
                f"the upgrade of {where} stopped, nothing was changed: {cause}",
                "delete or repair those rows (sqlite3: PRAGMA foreign_key_check), then start again",
            )
        state = getattr(cause, "sqlstate", None)
        if state == "3D000":
            return (
                f'PostgreSQL database "{url.database}" does not exist on {url.host}:'
                f"{url.port or 5432}",
                f"create it (createdb {url.database}) or fix DATABASE_URL",
            )
        if state in ("28P01", "28000"):
            return (
                f'PostgreSQL refused user "{url.username}" ({cause})',
                "check the user and password in DATABASE_URL",
            )
        if isinstance(cause, socket.gaierror):
            return f"cannot find the database host {url.host!r} ({cause})", "check DATABASE_URL"
        if isinstance(cause, OSError) and not isinstance(cause, FileNotFoundError):
            return (
                f"cannot connect to the database at {where} ({cause.strerror or cause})",
                "is it running? check DATABASE_URL",
            )
        if isinstance(cause, sa.exc.OperationalError) and url.drivername.startswith("sqlite"):
            return f"cannot open the SQLite database {where} ({cause.orig})", "check DATA_DIR"
    return None


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def revisions(db: AsyncEngine) -> Revisions:
    """Where the database is in the migration history, and where this code's history ends.
    Read without Alembic (storage/migration_heads.py): a database already at the latest
    revision, every restart, never imports it nor loads the migration scripts."""
    async with db.connect() as connection:
        now = await connection.run_sync(migration_heads.current)
    return Revisions(now, migration_heads.heads())


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def known_revision(revision: str) -> None:
    """Raise `ConfigError` when `revision` is not one of this code's migrations."""
    from alembic.util import CommandError

    if revision in ("head", "heads"):
        return
    script = _scripts()
    try:
        found = script.get_revisions(revision)
    except CommandError:
        found = ()
    if not found:
        known = ", ".join(sorted(r.revision for r in script.walk_revisions()))
        raise ConfigError(f"unknown revision {revision!r} (known: {known}, heads)")


def applied(revision: str, state: Revisions) -> bool:
    """True when `revision` is already part of the database's history (or below it)."""
    if revision in ("head", "heads"):
        return state.latest
    script = _scripts()
    for current in state.current:
        ancestors = {r.revision for r in script.iterate_revisions(current, "base")}
        if revision in ancestors:
            return True
    return False


async def open_database(
    settings: Settings, *, migrate: bool = True, create: bool = True
) -> AsyncEngine:
    """An engine over DATABASE_URL, migrated to the latest revision when `migrate`.

    `create=False`: never create anything; raise `NoDatabase` naming where we looked when
    there is no Switchboard database there (an existing one behind on migrations is upgraded).
    """
    url = settings.resolved_database_url
    path = sqlite_path(url)
    if not create and path is not None and not path.exists():
        raise NoDatabase(
            f"no database at {path} (nothing recorded there yet): set DATABASE_URL or "
            "--database to your database, or DATA_DIR to the directory holding switchboard.db"
        )
    db = create_engine(url)
    try:
        state = await revisions(db)  # connects: a bad URL fails here, with a clear line
        if not create and not state.current:
            raise NoDatabase(
                f"no Switchboard tables in {settings.database_shown} (nothing recorded "
                "there yet): check DATABASE_URL or --database"
            )
        if migrate and not state.latest:
            await upgrade(db)
    except ConfigError:
        await db.dispose()
        raise
    except Exception as error:
        await db.dispose()
        explained = explain(error, settings)
        if explained is None:
            raise
        raise ConfigError(": ".join(explained)) from error
    return db
