"""Read back what the bot stored, straight from the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.composition import Switchboard
from storage.tables import Call, ChannelSetting, Feedback, Thread


async def table_rows(app: Switchboard, model: Any) -> list[Any]:
    async with app.stores.db.connect() as conn:
        return list((await conn.execute(sa.select(model.__table__))).all())


async def calls(app: Switchboard) -> list[Any]:
    return await table_rows(app, Call)


async def feedback(app: Switchboard) -> list[Any]:
    return await table_rows(app, Feedback)


async def threads(app: Switchboard) -> list[Any]:
    return await table_rows(app, Thread)


async def channel_settings(app: Switchboard) -> list[Any]:
    return await table_rows(app, ChannelSetting)
