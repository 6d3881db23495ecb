"""Solved threads become knowledge.

A thread someone marked Solved proposes a knowledge entry: its question and the reply that
solved it (`solution`). An admin approves it (`switchboard kb review`, or the admin-only
button under the proposal in Slack and Discord) and it joins the `solved` collection, cited as
"a solved thread of <date>" with a link to the thread; or rejects it, and that answer of that
thread is never proposed again. With KB_AUTO_APPROVE_SOLVED=true a proposal is approved as it
is made. Nothing is proposed from a thread nobody marked solved: `propose` is only called by
`Operations` once the mark is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.conversation.answer import INCOMPLETE_NOTICE
from bot.conversation.text import neutralize_mentions
from bot.knowledge.config import SOLVED_COLLECTION
from bot.knowledge.ingest import Ingest
from storage.records import ThreadRef
from storage.solved import APPROVED, REJECTED, Draft, Proposal, Proposals, ThreadMessage

AUTO_APPROVED = "KB_AUTO_APPROVE_SOLVED"  # who decided an automatic approval
# The notices shown before an answer ("_I couldn't find this in our docs..._"): not knowledge.
_NOTICES = re.compile(r"\A(?:_[^\n]+_\n\n)+")


@dataclass(frozen=True)
class Solution:
    question: str  # what the asker wrote up to the answer
    answer_id: int
    answer: str
    answered_by: str  # the person who replied; "" for the bot


def solution(
    messages: Sequence[ThreadMessage], pressed: tuple[int, int] | None = None
) -> Solution | None:
    """The question and the reply that solved a thread, from its messages (oldest first).

    The asker wrote the thread's first message; the other messages are replies: the bot's
    answers and other people's messages. Solved pressed under an answer (`pressed`: the
    question's and the answer's message ids) names it, unless that answer replied to a
    person other than the asker: that person's message solved it (a teammate stepped in).
    Marked solved without an answer: the replies after the asker's last message, or when
    there are none (the asker's last word was "thanks, that worked"), the ones before it, and
    so back: of those, a person's last reply wins, else the bot's last answer. The question
    is everything the asker wrote before the solution.
    """
    if not messages:
        return None
    asker = messages[0].author

    def asked(m: ThreadMessage) -> bool:
        return m.role == "user" and m.author == asker

    def solved_by(reply: ThreadMessage) -> Solution:
        before = messages[: messages.index(reply)]
        question = "\n\n".join(m.text for m in before if asked(m))
        return Solution(question, reply.id, reply.text, "" if reply.role == "assistant"
                        else reply.author)  # fmt: skip

    ids = {m.id: m for m in messages}
    if pressed is not None and pressed[1] in ids:
        reply_to = ids.get(pressed[0])
        if reply_to is not None and reply_to.role == "user" and not asked(reply_to):
            return solved_by(reply_to)
        return solved_by(ids[pressed[1]])
    asks = [i for i, m in enumerate(messages) if asked(m)]
    for k in range(len(asks) - 1, -1, -1):
        end = asks[k + 1] if k + 1 < len(asks) else len(messages)
        replies = messages[asks[k] + 1 : end]
        if replies:
            people = [m for m in replies if m.role == "user"]
            return solved_by(people[-1] if people else replies[-1])
    return None


def as_knowledge(text: str, by_bot: bool) -> str:
    """A reply as the knowledge base keeps it: without the bot's notices, pinging nobody."""
    if by_bot:
        text = _NOTICES.sub("", text).removesuffix(INCOMPLETE_NOTICE)
    return neutralize_mentions(text).strip()


class SolvedThreads:
    def __init__(
        self,
        proposals: Proposals,
        ingest: Ingest,
        zone: ZoneInfo,
        *,
        auto_approve: bool = False,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.proposals = proposals
        self._ingest = ingest
        self._zone = zone
        self._auto_approve = auto_approve
        self._redact = redact  # the configured secrets, should someone paste one

    async def propose(
        self, thread: ThreadRef, by: str, call_id: int | None = None, url: str | None = None
    ) -> Proposal | None:
        """Propose the thread `by` just marked solved (under the answer of `call_id`, when
        the mark came from a button), or None when there is nothing new to review: no reply
        yet, or this answer was proposed before (waiting, approved or rejected). Approved at
        once with KB_AUTO_APPROVE_SOLVED."""
        pressed = await self.proposals.answer_of(call_id) if call_id is not None else None
        found = await self.proposals.thread(thread)
        if found is None:
            return None
        thread_id, messages = found
        solved = solution(messages, pressed)
        if solved is None:
            return None
        by_bot = not solved.answered_by
        question = self._redact(as_knowledge(solved.question, by_bot=False))
        answer = self._redact(as_knowledge(solved.answer, by_bot))
        draft = Draft(thread_id, solved.answer_id, question, answer, solved.answered_by, url, by)
        proposal = await self.proposals.propose(draft)
        if proposal is not None and self._auto_approve:
            return await self.decide(proposal.id, True, AUTO_APPROVED) or proposal
        return proposal

    async def decide(self, proposal_id: int, approve: bool, by: str) -> Proposal | None:
        """Approve (into the `solved` collection) or reject a pending proposal; None when it
        is not pending. An approval the knowledge base could not take stays pending."""
        status = APPROVED if approve else REJECTED
        proposal = await self.proposals.decide(proposal_id, status, by)
        if proposal is None or not approve:
            return proposal
        try:
            await self._ingest.put_text(
                SOLVED_COLLECTION, entry_path(proposal.thread), entry_text(proposal),
                title=self.title(proposal), url=proposal.url, kind="text",
            )  # fmt: skip
        except BaseException:
            await self.proposals.reopen(proposal_id)
            raise
        return proposal

    def title(self, proposal: Proposal) -> str:
        """How an answer cites it: "a solved thread of 2026-12-06" (the day it was marked)."""
        return f"a solved thread of {proposal.created_at.astimezone(self._zone).date()}"


def entry_path(thread: ThreadRef) -> str:
    """Its key in the `solved` collection: one entry per thread (a later approval replaces
    it), shown in citations when the thread has no link."""
    return f"{thread.platform}/{thread.workspace}/{thread.channel}/{thread.external_id}"


def entry_text(proposal: Proposal) -> str:
    return f"Question: {proposal.question}\n\nAnswer: {proposal.answer}"


def answer_label(proposal: Proposal) -> str:
    """Whose reply solved it, as a review shows it."""
    return "a person's reply" if proposal.answered_by else "the bot's answer"
