from __future__ import annotations

from adapters.console import ConsoleReply
from bot.messages import Incoming
from storage.ledger import call_rows
from tests.conftest import Database, MakeApp


def incoming(text: str, event_id: str, thread: str = "t1") -> Incoming:
    return Incoming("console", "local", "c1", thread, "u1", text, event_id)


async def test_answer_is_streamed_costed_and_recorded(
    database: Database, make_app: MakeApp
) -> None:
    app = await make_app(database)
    reply = ConsoleReply(echo=False)
    outcome = await app.engine.handle(incoming("What are your hours?", "e1"), reply)
    assert outcome.status == "answered"
    assert reply.text.startswith("[simulated]")
    rows = await call_rows(app.db)
    assert len(rows) == 1
    assert rows[0].cost_source == "reported"
    assert rows[0].cost_nano_usd and rows[0].cost_nano_usd > 0
    again = await app.engine.handle(
        incoming("What are your hours?", "e1"), ConsoleReply(echo=False)
    )
    assert again.status == "duplicate"
    assert len(await call_rows(app.db)) == 1
