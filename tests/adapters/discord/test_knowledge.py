"""Answers from the docs through the real discord.py: sources as Markdown links in an embed,
and a hand-off that may ping the configured role and nobody else."""

from __future__ import annotations

from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import HELP_ID
from tests.bot.knowledge.test_answers import MOVING, knowledge
from tests.conftest import Database
from tests.fakes import FakeProvider


async def test_an_answer_from_the_docs_has_a_sources_embed(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    await knowledge(sqlite_db, ("default", "moving.md", MOVING))
    h = await make_harness(sqlite_db)
    question = await h.message(HELP_ID, "how do I move my followers to a new account?")
    assert h.errors == []
    [message] = h.bot_messages(int(question["id"]))
    [embed] = message["embeds"]
    assert embed["title"] == "Sources"
    assert embed["description"] == (
        "[Moving your account › Move your followers](<https://help.acme.test/moving/#followers>)"
    )


async def test_a_hand_off_allows_the_role_mention_only(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    await knowledge(sqlite_db, ("default", "moving.md", MOVING))
    h = await make_harness(sqlite_db, kb_answer_without_sources=False,
                           kb_handoff_mention="discord:445566778899")  # fmt: skip
    question = await h.message(HELP_ID, "@everyone what is the capital of australia?")
    assert h.errors == []
    [message] = h.bot_messages(int(question["id"]))
    assert message["content"] == (
        "I couldn't find this in our docs, so I've asked the team to help here. <@&445566778899>"
    )
    [sent] = [c for c in h.rest.calls if c.method == "POST" and c.json and "content" in c.json]
    assert sent.json["allowed_mentions"] == {"parse": [], "roles": [445566778899]}
    assert provider.requests == []
