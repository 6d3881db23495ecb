from __future__ import annotations

import json

import pytest

from adapters.slack.reply import ESCALATE, FEEDBACK_DOWN, FEEDBACK_UP
from routing.tiers import tier_above
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import CHANNEL, USER, Harness, button, envelope, mention, slash
from tests.conftest import Database
from tests.rows import channel_tier, feedback_of


def reaction(kind: str, name: str, ts: str, user: str = USER) -> dict:
    return {
        "type": kind,
        "user": user,
        "reaction": name,
        "item_user": "UBOT",
        "item": {"type": "message", "channel": CHANNEL, "ts": ts},
        "event_ts": "1.1",
    }


async def answered(slack: Harness, text: str, ts: str) -> tuple[int, str]:
    await slack.http(envelope(mention(text, ts)))
    await slack.settle()
    answer = slack.answers()[-1]
    actions = answer.block("actions")
    assert actions is not None
    return int(actions["elements"][0]["value"]), answer.ts


async def test_reactions_write_feedback_and_changing_your_mind_updates(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    slack = await make_harness(sqlite_db)
    call_id, post_ts = await answered(slack, "Can I change my plan?", "100.000100")

    await slack.http(envelope(reaction("reaction_added", "+1::skin-tone-3", post_ts)))
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {USER: 1}
    await slack.socket(envelope(reaction("reaction_added", "thumbsdown", post_ts)))
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {USER: -1}
    await slack.http(envelope(reaction("reaction_removed", "thumbsdown", post_ts)))
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {}
    # Other emoji, and thumbs on messages that are not answers, change nothing.
    await slack.http(envelope(reaction("reaction_added", "tada", post_ts)))
    await slack.http(envelope(reaction("reaction_added", "+1", "999.000001")))
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {}


async def test_feedback_buttons_write_feedback(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    slack = await make_harness(sqlite_db)
    call_id, post_ts = await answered(slack, "Is there a student discount?", "200.000100")
    response = await slack.http(
        button(FEEDBACK_DOWN, str(call_id), post_ts, "200.000100"), form=True
    )
    assert response.status == 200
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {USER: -1}
    await slack.socket(button(FEEDBACK_UP, str(call_id), post_ts, "200.000100"))
    await slack.settle()
    assert await feedback_of(slack.app.stores.db, call_id) == {USER: 1}
    thanks = fake_slack.named("chat.postEphemeral")
    assert len(thanks) == 2 and thanks[0].args["user"] == USER


@pytest.mark.parametrize("strategy", ["tiered", "fixed"])
async def test_escalation_re_answers_one_tier_up_once(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack, strategy: str
) -> None:
    slack = await make_harness(sqlite_db, routing_strategy=strategy)
    call_id, post_ts = await answered(slack, "How do refunds work?", "300.000100")
    [first] = await slack.calls()

    press = button(ESCALATE, str(call_id), post_ts, "300.000100")
    await slack.http(press, form=True)
    await slack.settle()
    calls = await slack.calls()
    assert len(calls) == 2
    again = calls[1]
    assert again.escalation and not first.escalation
    # Fixed routing has no tier: escalation forces the strongest one ("premium").
    assert again.tier == (tier_above(first.tier) if strategy == "tiered" else None)
    if strategy == "tiered":
        assert again.tier != first.tier and again.reasons.startswith("tier forced to")
    answers = slack.answers()
    assert len(answers) == 2 and answers[1].thread_ts == "300.000100"

    await slack.socket(press)  # pressing again does not buy a third answer
    await slack.settle()
    assert len(await slack.calls()) == 2
    assert "already" in fake_slack.named("chat.postEphemeral")[-1].args["text"]


async def test_slash_command_spend_help_and_admin_only_tier(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    slack = await make_harness(sqlite_db, slack_admin_user_ids="UADMIN")
    await answered(slack, "What does the pro plan include?", "400.000100")

    response = await slack.http(slash("spend"), form=True)
    assert response.status == 200
    body = json.loads(response.body)
    assert len(await slack.calls()) == 1
    assert body["response_type"] == "ephemeral"
    assert "This channel today: $" in body["text"] and "over 1 calls" in body["text"]
    assert "Whole workspace this month" in body["text"]

    refused = json.loads((await slack.http(slash("tier premium"), form=True)).body)
    assert "Only Switchboard admins" in refused["text"]
    assert await channel_tier(slack.app.stores.db, "slack", "T1", CHANNEL) is None
    done = json.loads((await slack.http(slash("tier budget", user="UADMIN"), form=True)).body)
    assert "budget" in done["text"]
    assert await channel_tier(slack.app.stores.db, "slack", "T1", CHANNEL) == "budget"
    bad = json.loads((await slack.http(slash("tier cheapest", user="UADMIN"), form=True)).body)
    assert "not a tier" in bad["text"]
    helped = json.loads((await slack.http(slash(""), form=True)).body)
    assert "spend" in helped["text"] and "tier" in helped["text"]
    unknown = json.loads((await slack.http(slash("launch rockets"), form=True)).body)
    assert "Unknown command" in unknown["text"]
