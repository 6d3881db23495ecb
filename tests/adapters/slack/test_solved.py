"""Solved threads become knowledge through the real Bolt app: "Solved" under an answer proposes
the thread's question and the reply that solved it (here a teammate's, captured from the
thread), posted in the thread for review; a non-admin's Approve changes nothing; an admin's
adds it, and the next answer cites it as "a solved thread of <date>" with the permalink."""

from __future__ import annotations

from typing import Any

from adapters.slack.reply import SOLVED
from adapters.slack.solved import ADDED, APPROVE, NOT_ADMIN, REJECT
from storage.knowledge_tables import kb_proposals_t
from storage.tables import utcnow
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import USER, button, envelope, mention, message
from tests.conftest import Database
from tests.rows import rows

THREAD = "500.000100"


def pressed(action_id: str, value: object, message_ts: str, user: str = USER) -> dict[str, Any]:
    payload = button(action_id, str(value), message_ts, THREAD)
    payload["team"]["domain"] = "acme"  # Slack sends the workspace's domain with every press
    payload["user"]["id"] = user
    return payload


async def test_solved_proposes_and_only_an_admin_adds_it_to_the_knowledge_base(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    slack = await make_harness(sqlite_db, slack_admin_user_ids="UADMIN")
    await slack.http(envelope(mention("How do I rotate my API key?", THREAD)))
    await slack.http(envelope(message("<!here> Rotate it under Settings › Security.",
                                      "500.000200", THREAD, user="U77")))  # fmt: skip
    await slack.settle()
    to_teammate = slack.answers()[-1]  # the bot answers the teammate too
    actions = to_teammate.block("actions")
    assert actions is not None
    solved = next(b for b in actions["elements"] if b["action_id"] == SOLVED)

    await slack.http(pressed(SOLVED, solved["value"], to_teammate.ts), form=True)
    await slack.settle()
    assert fake_slack.named("chat.postEphemeral")[-1].args["text"].startswith("Marked as solved")
    review = slack.answers()[-1]
    assert review.thread_ts == THREAD and "a person's reply" in review.text
    assert "<!here>" not in review.text  # stored and shown pinging nobody
    buttons = review.block("actions")
    assert buttons is not None
    assert [b["action_id"] for b in buttons["elements"]] == [APPROVE, REJECT]
    [proposal] = await rows(slack.app.stores.db, kb_proposals_t)
    assert (proposal.answered_by, proposal.url) == (
        "U77",
        "https://acme.slack.com/archives/C1/p500000100",
    )

    await slack.http(pressed(APPROVE, proposal.id, review.ts), form=True)  # not an admin
    await slack.settle()
    assert fake_slack.named("chat.postEphemeral")[-1].args["text"] == NOT_ADMIN
    assert [p.status for p in await rows(slack.app.stores.db, kb_proposals_t)] == ["pending"]

    await slack.socket(pressed(APPROVE, proposal.id, review.ts, user="UADMIN"))
    await slack.settle()
    assert [p.status for p in await rows(slack.app.stores.db, kb_proposals_t)] == ["approved"]
    assert [m.text for m in fake_slack.messages() if m.ts == review.ts] == [ADDED]

    await slack.http(envelope(mention("how can I rotate an api key?", "600.000100")))
    await slack.settle()
    sources = slack.answers()[-1].block("context")
    assert sources is not None and sources["elements"][0]["text"] == (
        "*Sources:* <https://acme.slack.com/archives/C1/p500000100|a solved thread of "
        f"{utcnow().date()}>"
    )
