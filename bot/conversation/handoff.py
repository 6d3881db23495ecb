"""Handing a question to people: the docs don't cover it and no answer without them is
wanted (KB_ANSWER_WITHOUT_SOURCES=false). No model is asked, nothing is charged."""

from __future__ import annotations

from bot.conversation.messages import HandsOff, Outcome, Reply
from bot.knowledge.grounding import HANDED_OFF
from storage.conversations import Conversations


async def hand_off(
    reply: Reply, conversations: Conversations, message_id: int, platform: str
) -> Outcome:
    """Say the docs don't cover it and ping the people configured (a reply that cannot ping
    says it as a notice); the question is then done."""
    if isinstance(reply, HandsOff):
        posted = await reply.hand_off(HANDED_OFF)
    else:
        await reply.fail(HANDED_OFF)
        posted = []
    await conversations.finish_question(message_id, platform, posted, None)
    return Outcome("handed_off", message=HANDED_OFF)
