"""A test database taken back to an earlier migration, to see what the next one does to the
rows already there."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Alembic's downgrade to `revision`, in one transaction."""
    from alembic import command

    from storage.database import alembic_config

    def run(connection: sa.Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
