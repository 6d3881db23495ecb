"""Read back what the bot stored, straight from the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.composition import App
from storage.tables import Call, ChannelSetting, Feedback, Thread


async def table_rows(app: App, model: Any) -> list[Any]:
    async with app.db.connect() as conn:
        return list((await conn.execute(sa.select(model.__table__))).all())


async def calls(app: App) -> list[Any]:
    return await table_rows(app, Call)


async def feedback(app: App) -> list[Any]:
    return await table_rows(app, Feedback)


async def threads(app: App) -> list[Any]:
    return await table_rows(app, Thread)


async def channel_settings(app: App) -> list[Any]:
    return await table_rows(app, ChannelSetting)
