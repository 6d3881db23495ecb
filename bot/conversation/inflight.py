"""The provider request in flight, noted on the question before it is made, so that a crash
during it still puts it on the ledger (one row per request the provider received)."""

from __future__ import annotations

import json
import logging

from bot.llm.dispatch import Trying
from bot.llm.recorder import CallContext
from storage.records import StartedTurn

log = logging.getLogger(__name__)

DEFAULT_BOUND = 4096  # output tokens assumed when a request set no max_tokens


def pending_call(
    context: CallContext, trying: Trying, prompt_tokens: int, max_tokens: int | None
) -> str:
    """What recovery needs to charge this request: who asked, which model, how big it could be."""
    c = context
    return json.dumps({
        "attempt": trying.number, "model": trying.model, "prompt_tokens": prompt_tokens,
        "max_tokens": max_tokens or DEFAULT_BOUND, "platform": c.platform,
        "workspace": c.workspace, "channel": c.channel, "user": c.user,
        "strategy": c.strategy, "tier": c.tier, "escalation": c.escalation,
        "experiment": c.experiment, "variant": c.variant,
    })  # fmt: skip


def in_flight(turn: StartedTurn) -> tuple[CallContext, int, str, int, int] | None:
    """The request a crashed process left in flight on `turn`: (context, attempt number,
    model, prompt tokens, output bound), or None."""
    if not turn.pending:
        return None
    try:
        p = json.loads(turn.pending)
        context = CallContext(
            thread_id=turn.thread_id, message_id=turn.message_id, platform=p["platform"],
            workspace=p["workspace"], channel=p["channel"], user=p["user"],
            strategy=p["strategy"], tier=p["tier"], escalation=p["escalation"],
            experiment=p["experiment"], variant=p["variant"],
        )  # fmt: skip
        return (context, int(p["attempt"]), str(p["model"]), int(p["prompt_tokens"]),
                int(p["max_tokens"]))  # fmt: skip
    except (ValueError, KeyError, TypeError):
        log.warning("question %s: unreadable call in flight %r", turn.message_id, turn.pending)
        return None
