"""Answers from the docs through the real Bolt app: sources as Slack mrkdwn links under the
answer, and a hand-off that pings the configured user group and nobody else."""

from __future__ import annotations

from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.harness import envelope, mention
from tests.bot.knowledge.test_answers import INJECTION, MOVING, knowledge
from tests.conftest import Database
from tests.fakes import FakeProvider, Scripted


async def test_an_answer_from_the_docs_links_its_sources(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    await knowledge(sqlite_db, ("default", "moving.md", MOVING), ("default", "bill.md", INJECTION))
    slack = await make_harness(sqlite_db)
    await slack.http(envelope(mention("how do I move my followers to a new account?", "1.0001")))
    await slack.settle()
    [answer] = slack.answers()
    sources = answer.block("context")
    assert sources is not None and sources["elements"][0]["text"] == (
        "*Sources:* <https://help.acme.test/moving/#followers|Moving your account › Move your "
        "followers>"
    )


async def test_a_hand_off_pings_the_user_group_only(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    await knowledge(sqlite_db, ("default", "moving.md", MOVING))
    provider.default = Scripted(text="<!channel> <@U999> everyone look")  # never asked
    slack = await make_harness(sqlite_db, kb_answer_without_sources=False,
                               kb_handoff_mention="slack:S0SUPPORT")  # fmt: skip
    await slack.http(envelope(mention("<!here> what is the capital of australia?", "1.0002")))
    await slack.settle()
    [answer] = slack.answers()
    assert answer.body == (
        "I couldn't find this in our docs, so I've asked the team to help here. "
        "<!subteam^S0SUPPORT>"
    )
    assert provider.requests == [] and await slack.calls() == []
