"""Solved threads become knowledge through real discord.py objects: "Solved" under an answer
posts the proposed entry in the thread; its Approve/Reject buttons refuse a non-admin and
change nothing; an admin's rejection is final for that answer, an approval is cited by the
next answer as "a solved thread of <date>" with a link to the answer's message."""

from __future__ import annotations

from adapters.discord.solved import ADDED, NOT_ADDED, NOT_ADMIN
from adapters.discord.views import SOLVED
from storage.knowledge_tables import kb_proposals_t
from storage.tables import utcnow
from tests.adapters.discord.conftest import MakeHarness
from tests.adapters.discord.harness import ADMIN_ID, GUILD_ID, HELP_ID, Harness
from tests.adapters.discord.rows import calls
from tests.adapters.discord.test_feedback_and_commands import answered, last_callback
from tests.conftest import Database
from tests.rows import rows


async def solved(h: Harness, question: str) -> tuple[int, int, dict]:
    """Ask, press Solved under the answer: (thread id, answer message id, review message)."""
    thread_id, answer_id = await answered(h, question)
    call = (await calls(h.app))[-1]
    await h.click(answer_id, f"sb:solved:{call.id}")
    assert last_callback(h)["data"]["content"] == SOLVED
    [review] = [m for m in h.bot_messages(thread_id) if m["id"] in reviews(h, thread_id)]
    return thread_id, answer_id, review


def reviews(h: Harness, thread_id: int) -> list[str]:
    """The ids of the proposals posted in a thread (not the private replies to clicks)."""
    return [m["id"] for m in h.bot_messages(thread_id) if m["content"].startswith("📚")]


def custom_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


async def test_solved_proposes_and_only_an_admin_reviews_it(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    h = await make_harness(sqlite_db)
    thread_id, answer_id, review = await solved(h, "How do I rotate my API key?")
    [proposal] = await rows(h.app.stores.db, kb_proposals_t)
    assert review["content"].startswith("📚 **Add this solved thread to the knowledge base?**")
    assert "the bot's answer" in review["content"]
    assert custom_ids(review) == [f"sb:kb:approve:{proposal.id}", f"sb:kb:reject:{proposal.id}"]
    assert proposal.url == f"https://discord.com/channels/{GUILD_ID}/{thread_id}/{answer_id}"

    await h.click(int(review["id"]), f"sb:kb:approve:{proposal.id}")  # a regular member
    response = last_callback(h)
    assert response["data"]["content"] == NOT_ADMIN and response["data"]["flags"] & 64
    assert [p.status for p in await rows(h.app.stores.db, kb_proposals_t)] == ["pending"]

    await h.click(int(review["id"]), f"sb:kb:reject:{proposal.id}", user_id=ADMIN_ID)
    response = last_callback(h)
    assert response["type"] == 7 and response["data"]["content"] == NOT_ADDED
    assert response["data"]["components"] == []  # the buttons are gone
    assert [p.status for p in await rows(h.app.stores.db, kb_proposals_t)] == ["rejected"]
    call = (await calls(h.app))[-1]
    await h.click(answer_id, f"sb:solved:{call.id}")
    assert last_callback(h)["data"]["content"] == SOLVED
    assert reviews(h, thread_id) == [review["id"]]  # a rejected answer never comes back

    thread_id, answer_id, review = await solved(h, "Can I export my invoices as CSV?")
    proposal = (await rows(h.app.stores.db, kb_proposals_t))[-1]
    await h.click(int(review["id"]), f"sb:kb:approve:{proposal.id}", user_id=ADMIN_ID)
    assert last_callback(h)["data"]["content"] == ADDED
    question = await h.message(HELP_ID, "how do I export invoices as csv")
    [embed] = h.bot_messages(int(question["id"]))[-1]["embeds"]
    link = f"https://discord.com/channels/{GUILD_ID}/{thread_id}/{answer_id}"
    assert embed["description"] == f"[a solved thread of {utcnow().date()}](<{link}>)"
    assert h.errors == []
