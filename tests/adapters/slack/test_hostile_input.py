"""Hostile Slack input (issue 13): each case is ignored or answered with one clear line, nothing
is logged as an error, and the server keeps serving. Plus a bounded, deterministic fuzz run."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.conversation.engine import EMPTY_MESSAGE
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.harness import Harness, envelope, mention, signed_headers
from tests.conftest import Database
from tests.fakes import FakeProvider

DEEP = "[" * 5000 + "]" * 5000


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def still_serving(slack: Harness, ts: str) -> None:
    before = len(slack.answers())
    response = await slack.http(envelope(mention("Are you still there?", ts)))
    await slack.settle()
    assert response.status == 200
    assert len(slack.answers()) == before + 1
    assert slack.answers()[-1].body.startswith("Here is how")


async def test_mention_of_only_zero_width_spaces_gets_one_clear_line(
    sqlite_db: Database,
    make_harness: MakeHarness,
    provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = await make_harness(sqlite_db)
    response = await slack.http(envelope(mention("\u200b\u200b \u200d\ufeff\u2060", "10.000100")))
    await slack.settle()
    assert response.status == 200
    [reply] = slack.answers()
    assert EMPTY_MESSAGE in reply.body
    assert provider.requests == []
    assert errors(caplog) == []
    await still_serving(slack, "10.000200")


async def test_event_that_is_a_string_is_ignored(
    sqlite_db: Database,
    make_harness: MakeHarness,
    provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = await make_harness(sqlite_db)
    statuses = []
    for value in ("hello", 42, ["app_mention"], None):
        body = envelope(mention("x", "11.000100"))
        body["event"] = value
        statuses.append((await slack.http(body)).status)
        statuses.append((await slack.socket(body)).status)
    await slack.settle()
    assert all(status < 500 for status in statuses), statuses
    assert provider.requests == [] and slack.answers() == []
    assert errors(caplog) == []
    await still_serving(slack, "11.000200")


async def test_deeply_nested_json_signed_and_unsigned_is_refused(
    sqlite_db: Database, make_harness: MakeHarness, caplog: pytest.LogCaptureFixture
) -> None:
    slack = await make_harness(sqlite_db)
    nested_event = '{"type": "event_callback", "event": ' + DEEP + "}"
    signed = [await slack.http(DEEP), await slack.http(nested_event)]
    unsigned = await slack.adapter.dispatch_http(DEEP, {"content-type": "application/json"})
    assert [r.status for r in signed] == [400, 400]
    assert unsigned.status == 401  # the signature is checked before the body is parsed
    assert errors(caplog) == []
    await still_serving(slack, "12.000100")


async def test_lone_surrogate_in_a_user_id_is_ignored(
    sqlite_db: Database,
    make_harness: MakeHarness,
    provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    slack = await make_harness(sqlite_db)
    event = mention("hello there", "13.000100")
    event["user"] = "U\ud800X"
    response = await slack.http(json.dumps(envelope(event)))  # JSON escapes it as \ud800
    await slack.settle()
    assert response.status == 200
    assert provider.requests == [] and slack.answers() == []
    assert errors(caplog) == []
    await still_serving(slack, "13.000200")


# --- fuzz ------------------------------------------------------------------------------

_text = st.text(max_size=40)  # includes lone surrogates, NUL, RTL, zero-width characters
_value = st.recursive(
    st.none() | st.booleans() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_event = st.fixed_dictionaries(
    {"type": st.sampled_from(["app_mention", "message", "reaction_added", "x"]) | _value},
    optional={
        "user": st.sampled_from(["U42", "UBOT"]) | _value,
        "text": st.sampled_from(["<@UBOT> help", "\u200b", ""]) | _value,
        "ts": st.sampled_from(["1.000100", "1.000200"]) | _value,
        "channel": st.sampled_from(["C1", "D1"]) | _value,
        "thread_ts": _value,
        "subtype": _value,
        "channel_type": st.sampled_from(["im", "channel"]) | _value,
        "bot_id": _value,
        "item": _value,
        "reaction": _value,
    },
)


_built: dict[int, Harness] = {}


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    max_examples=120,
    derandomize=True,  # the same examples on every run: CI never flakes on a new one
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event=_event | _value, team=st.sampled_from(["T1"]) | _value)
async def test_fuzzed_events_never_error(
    sqlite_db: Database,
    make_harness: MakeHarness,
    caplog: pytest.LogCaptureFixture,
    event: Any,
    team: Any,
) -> None:
    # One app for every example (building one per example would cost ~1 s each).
    slack = _built.get(id(make_harness)) or await make_harness(sqlite_db)
    _built[id(make_harness)] = slack
    body = {**envelope({}), "event": event, "team_id": team}
    raw = json.dumps(body)
    caplog.clear()
    http = await slack.adapter.dispatch_http(raw, signed_headers(raw))
    socket = await slack.socket(body)
    await slack.settle()
    assert http.status < 500 and socket.status < 500
    assert errors(caplog) == []
