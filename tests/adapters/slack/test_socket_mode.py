"""`serve()` in Socket Mode over a real websocket: the fake Slack hands out its own socket URL
from apps.connections.open, pushes an Events API envelope and records the client's acks."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.composition import Switchboard
from adapters.services import services
from storage.tables import Call
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import CHANNEL, envelope, mention, slack_settings
from tests.conftest import Database, MakeApp

APP_TOKEN = "xapp-test"


def socket_envelope(payload: dict[str, Any], retry_attempt: int = 0) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": retry_attempt,
        "retry_reason": "timeout" if retry_attempt else "",
        "payload": payload,
    }


async def acked(fake: FakeSlack, sent: dict[str, Any], timeout_s: float) -> float:
    """Seconds until the client acks `sent` (fails the test after `timeout_s`)."""
    started = time.perf_counter()
    await fake.until(lambda: {"envelope_id": sent["envelope_id"]} in fake.frames, timeout_s)
    return time.perf_counter() - started


async def call_rows(app: Switchboard) -> int:
    async with app.stores.db.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(Call))).scalar_one())


async def test_socket_mode_acks_over_the_websocket_and_answers_a_redelivery_once(
    sqlite_db: Database, make_app: MakeApp, fake_slack: FakeSlack
) -> None:
    app = await make_app(sqlite_db, **slack_settings(fake_slack, slack_app_token=APP_TOKEN))
    service = asyncio.create_task(services(app)["slack"]())
    try:
        # Connected = apps.connections.open (with the app token) and the websocket is up.
        await fake_slack.until(lambda: fake_slack.sockets, 5.0)
        assert fake_slack.socket_tokens == [f"Bearer {APP_TOKEN}"]

        payload = envelope(mention("Where is my parcel?", "700.000100"), event_id="EvSOCKET")
        first = socket_envelope(payload)
        await fake_slack.push(first)
        assert await acked(fake_slack, first, 3.0) < 3.0
        await fake_slack.until(lambda: fake_slack.named("chat.stopStream"), 5.0)

        # Slack redelivers (its own envelope id, retry_attempt 1) when it thinks the ack got lost.
        again = socket_envelope(payload, retry_attempt=1)
        await fake_slack.push(again)
        assert await acked(fake_slack, again, 3.0) < 3.0
    finally:
        service.cancel()
        # serve() closes the socket, then lets work in flight (the redelivery's) finish.
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(service, 10.0)

    assert fake_slack.frames == [
        {"envelope_id": first["envelope_id"]},
        {"envelope_id": again["envelope_id"]},
    ]
    answers = [m for m in fake_slack.messages() if m.body != "_Thinking…_"]
    [answer] = answers
    assert answer.channel == CHANNEL and answer.thread_ts == "700.000100"
    assert answer.body.startswith("Here is how")
    assert len(fake_slack.named("chat.startStream")) == 1
    assert await call_rows(app) == 1
    assert not fake_slack.sockets  # the client closed its websocket on the way out
