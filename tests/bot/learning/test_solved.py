"""Solved threads become knowledge, through the engine and operations as `switchboard run`
wires them, on SQLite and PostgreSQL: marking a thread solved proposes its question and the
answer that solved it (the bot's, or a person's last reply); nothing is proposed before; an
approved entry is found and cited as "a solved thread of <date>" with the thread's link; a
rejected answer never comes back; KB_AUTO_APPROVE_SOLVED approves without review."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adapters.composition import Switchboard
from bot.knowledge.config import SOLVED_COLLECTION
from storage.knowledge import KnowledgeStore
from storage.solved import Proposal, Proposals
from storage.tables import utcnow
from tests.bot.knowledge.test_answers import MOVING, knowledge
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import FakeProvider, RecordingReply, Scripted, incoming

LINK = "https://acme.slack.com/archives/C1/p1000"
QUESTION = "How do I rotate my API key?"
PINGS = "<!channel> Go to Settings › API keys and press Rotate, <@U7> @here."


async def ask(app: Switchboard, text: str, event: str, user: str = "U1", **kw: Any) -> int:
    """A message in thread t1 (the bot answers every one); the answer's call id."""
    reply = RecordingReply()
    await app.engine.handle(incoming(text, event, user=user, **kw), reply)
    assert reply.meta is not None
    return reply.meta.call_id


async def pending(app: Switchboard) -> list[Proposal]:
    return await Proposals(app.stores.db).pending()


async def marked(app: Switchboard, call_id: int, user: str = "U1", **kw: Any) -> Proposal | None:
    """Solved pressed under the answer `call_id`: the proposal it made (None: nothing new)."""
    done = await app.ops.solved_by_call(call_id, user, **kw)
    assert done is not None
    return done.proposal


async def test_the_bots_answer_is_proposed_once_the_thread_is_marked_solved(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    await knowledge(database, ("default", "moving.md", MOVING))  # not about API keys
    app = await fixed_app(make_app, database)
    provider.enqueue(Scripted(text=PINGS))
    call_id = await ask(app, QUESTION, "e1")
    await ask(app, "thanks, that worked!", "e2")
    assert await pending(app) == []  # answered, even thanked: nobody marked it solved

    proposal = await marked(app, call_id, url=LINK)
    assert proposal is not None and proposal.pending and await pending(app) == [proposal]
    assert (proposal.question, proposal.answered_by, proposal.url) == (QUESTION, "", LINK)
    # The notice shown before it ("I couldn't find this in our docs") is not knowledge, and
    # nothing in it pings anyone.
    assert proposal.answer == (
        "@\u2060channel Go to Settings › API keys and press Rotate, @\u2060U7 @\u2060here."
    )
    assert await marked(app, call_id, "U9") is None  # the same answer: nothing new
    assert await app.ops.solved_by_call(999_999, "U1") is None  # not one of our answers


async def test_a_persons_last_reply_is_the_answer_that_solved_it(
    database: Database, make_app: MakeApp
) -> None:
    app = await fixed_app(make_app, database, slack_bot_token="xoxb-our-own-token")
    await ask(app, QUESTION, "e1")
    await ask(app, "Not there for me", "e2")
    await ask(app, "Admins see it under Security, top right.", "e3", user="U2")
    last = "Under Security, then Rotate (not xoxb-our-own-token)."
    to_teammate = await ask(app, last, "e4", user="U2")  # the bot answers the teammate too
    done = await app.ops.solved("slack", "T1", "C1", "t1", "U1", url=LINK)
    assert done is not None and done.proposal is not None
    proposal = done.proposal  # a configured secret pasted in the thread is masked
    assert proposal.answer == "Under Security, then Rotate (not [redacted])."
    assert proposal.answered_by == "U2"
    assert proposal.question == f"{QUESTION}\n\nNot there for me"
    # Solved pressed under the bot's answer to the teammate names the teammate's message.
    await ask(app, "thanks!", "e5")
    assert await marked(app, to_teammate) is None and await pending(app) == [proposal]
    assert await app.ops.solved("slack", "T1", "C1", "no-such-thread", "U1") is None


async def test_an_approved_entry_is_cited_as_a_solved_thread_with_its_link(
    database: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    app = await fixed_app(make_app, database)
    provider.enqueue(Scripted(text="Open Settings › API keys and press Rotate."))
    call_id = await ask(app, QUESTION, "e1")
    proposal = await marked(app, call_id, url=LINK)
    assert proposal is not None
    approved = await app.ops.review(proposal.id, True, "UADMIN")
    assert approved is not None and approved.status == "approved"
    assert await app.ops.review(proposal.id, False, "UADMIN") is None  # decided already

    reply = RecordingReply()
    await app.engine.handle(incoming("how can I rotate an api key", "e9", thread="t2"), reply)
    assert reply.meta is not None
    [source] = reply.meta.sources
    day = utcnow().astimezone(ZoneInfo(app.settings.timezone)).date()
    assert (source.label, source.url) == (f"a solved thread of {day}", LINK)
    assert "press Rotate" in provider.requests[-1].messages[-1].content  # given as a document


async def test_a_rejected_answer_never_comes_back_and_new_replies_propose_again(
    database: Database, make_app: MakeApp
) -> None:
    app = await fixed_app(make_app, database)
    call_id = await ask(app, QUESTION, "e1")
    first = await marked(app, call_id)
    assert first is not None
    rejected = await app.ops.review(first.id, False, "UADMIN")
    assert rejected is not None and rejected.status == "rejected"
    assert await marked(app, call_id) is None and await pending(app) == []

    await ask(app, "Rotate it from the CLI: acme keys rotate", "e2", user="U2")
    newer = await app.ops.solved("slack", "T1", "C1", "t1", "U1")
    assert newer is not None and newer.proposal is not None and newer.proposal.id != first.id
    await ask(app, "Or ask an admin to rotate it for you.", "e3", user="U3")
    latest = await app.ops.solved("slack", "T1", "C1", "t1", "U1")
    assert latest is not None and latest.proposal is not None
    # One proposal per thread: the update replaced the pending one.
    [waiting] = await pending(app)
    assert (waiting.id, waiting.answered_by) == (newer.proposal.id, "U3")
    assert await KnowledgeStore(app.stores.db).documents(SOLVED_COLLECTION) == []


async def test_auto_approve_adds_the_entry_without_review(
    database: Database, make_app: MakeApp
) -> None:
    app = await fixed_app(make_app, database, kb_auto_approve_solved=True)
    call_id = await ask(app, QUESTION, "e1")
    proposal = await marked(app, call_id, url=LINK)
    assert proposal is not None and proposal.status == "approved" and await pending(app) == []
    store = KnowledgeStore(app.stores.db)
    [entry] = await store.documents(SOLVED_COLLECTION)
    await store.close()
    assert (entry.path, entry.url) == ("slack/T1/C1/t1", LINK)
    assert entry.title.startswith("a solved thread of ")
