"""The provider request in flight, noted on the question before it is made, so that a crash
during it still puts it on the ledger (one row per request the provider received)."""

from __future__ import annotations

import json
import logging

from bot.llm.dispatch import Trying
from bot.llm.recorder import CallContext
from bot.llm.types import Asker
from storage.records import StartedTurn

log = logging.getLogger(__name__)

DEFAULT_BOUND = 4096  # output tokens assumed when a request set no max_tokens


def pending_call(
    context: CallContext, trying: Trying, prompt_tokens: int, max_tokens: int | None
) -> str:
    """What recovery needs to charge this request: who asked, which model on which provider
    (its key), how big it could be."""
    c, a = context, context.asker
    return json.dumps({
        "attempt": trying.number, "model": trying.candidate.key, "prompt_tokens": prompt_tokens,
        "max_tokens": max_tokens or DEFAULT_BOUND, "platform": a.platform,
        "workspace": a.workspace, "channel": a.channel, "user": a.user, "thread": a.thread,
        "strategy": c.strategy, "tier": c.tier, "escalation": c.escalation,
        "experiment": c.experiment, "variant": c.variant,
    })  # fmt: skip


def in_flight(turn: StartedTurn) -> tuple[CallContext, int, str, int, int] | None:
    """The request a crashed process left in flight on `turn`: (context, attempt number,
    model key, prompt tokens, output bound), or None."""
    if not turn.pending:
        return None
    try:
        p = json.loads(turn.pending)
        asker = Asker(p["platform"], p["workspace"], p["channel"], p["user"], p.get("thread", ""))
        context = CallContext(
            asker, thread_id=turn.thread_id, message_id=turn.message_id,
            strategy=p["strategy"], tier=p["tier"], escalation=p["escalation"],
            experiment=p["experiment"], variant=p["variant"],
        )  # fmt: skip
        return (context, int(p["attempt"]), str(p["model"]), int(p["prompt_tokens"]),
                int(p["max_tokens"]))  # fmt: skip
    except (ValueError, KeyError, TypeError):
        log.warning("question %s: unreadable call in flight %r", turn.message_id, turn.pending)
        return None
