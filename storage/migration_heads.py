"""Whether a database is already at the latest migrations, without importing Alembic.

Alembic (with Mako) adds ~10 MB to a process that keeps it for its whole life, and start-up
only needs it when there is something to migrate: the heads are read from the migration files
(their `revision` and `down_revision` lines) and compared with `alembic_version`.
"""

from __future__ import annotations

import ast
import contextlib
from functools import cache
from pathlib import Path

import sqlalchemy as sa

VERSIONS = Path(__file__).parent / "migrations" / "versions"


@cache
def heads(folder: Path = VERSIONS) -> frozenset[str]:
    """The revisions no other migration names as its `down_revision`."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in folder.glob("*.py"):
        values = _assignments(path)
        if "revision" not in values:
            continue
        revisions.add(str(values["revision"]))
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):  # a merge point names several
            parents.update(str(d) for d in down)
    return frozenset(revisions - parents)


def _assignments(path: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                with contextlib.suppress(ValueError):
                    found[target.id] = ast.literal_eval(node.value)
    return found


def current(connection: sa.Connection) -> frozenset[str]:
    """The revisions `alembic_version` holds (empty when there is no such table yet)."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return frozenset()
    rows = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(rows)


def at_heads(connection: sa.Connection) -> bool:
    """True when `alembic_version` holds exactly the heads (False when it is missing)."""
    return current(connection) == heads()
