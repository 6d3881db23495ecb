"""Solved threads in Slack: "Solved" under an answer marks its thread solved and posts the
knowledge entry that proposes in the thread, with Approve and Reject buttons that only
Switchboard admins (SLACK_ADMIN_USER_IDS) may use; anyone else is told so, privately, and
nothing changes."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.format import neutralize_mentions
from adapters.slack.payloads import action_of
from adapters.slack.reply import SLACK_ERRORS, SOLVED
from adapters.slack.tasks import TaskTracker
from bot.learning.solved import answer_label
from bot.notices import clip
from bot.operations import Operations
from storage.solved import Proposal

log = logging.getLogger(__name__)

APPROVE = "switchboard_kb_approve"
REJECT = "switchboard_kb_reject"
MARKED = "Marked as solved. Thanks for letting us know!"
UNKNOWN_ANSWER = "I can't find that answer any more."
NOT_ADMIN = (
    "Thanks! Only Switchboard admins (SLACK_ADMIN_USER_IDS) can add a solved thread to the "
    "knowledge base, so nothing was changed. An admin can review it here."
)
REVIEWED = "This suggestion was already reviewed."
ADDED = ":white_check_mark: Added to the knowledge base (the `solved` collection)."
NOT_ADDED = ":x: Not added to the knowledge base; this answer won't be suggested again."
_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

Ephemeral = Callable[[str, str, str], Awaitable[None]]  # channel, user, text


def permalink(body: dict[str, Any], channel: str, thread: str) -> str | None:
    """The thread's link, from the workspace's domain a button press carries."""
    domain = (body.get("team") or {}).get("domain")
    if not (isinstance(domain, str) and _DOMAIN.match(domain)):
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{thread.replace('.', '')}"


def review_message(proposal: Proposal) -> tuple[str, list[dict[str, Any]]]:
    """The proposal as posted in its thread: what would be added, and the two buttons."""
    text = neutralize_mentions(
        ":books: *Add this solved thread to the knowledge base?*\n"
        f"*Question:* {clip(proposal.question, 600)}\n"
        f"*Answer* ({answer_label(proposal)}): {clip(proposal.answer, 1500)}\n"
        "_Admins: approve or reject it here, or with `switchboard kb review`._"
    )
    value = str(proposal.id)
    buttons = [_button("Approve", APPROVE, value, "primary"),
               _button("Reject", REJECT, value, "danger")]  # fmt: skip
    return text, [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": "switchboard_kb_review", "elements": buttons},
    ]


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": label},
            "action_id": action_id, "value": value, "style": style}  # fmt: skip


class SolvedActions:
    def __init__(
        self,
        ops: Operations,
        client: AsyncWebClient,
        admins: tuple[str, ...],
        tasks: TaskTracker,
        ephemeral: Ephemeral,
    ) -> None:
        self.ops, self.client, self.admins = ops, client, admins
        self.tasks, self.ephemeral = tasks, ephemeral

    def register(self, bolt: AsyncApp) -> None:
        bolt.action(SOLVED)(self._on_solved)
        bolt.action(APPROVE)(self._on_review)
        bolt.action(REJECT)(self._on_review)

    async def _on_solved(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = action_of(body)
        if action is None:
            return
        call_id, user, channel, thread = action
        url = permalink(body, channel, thread)
        self.tasks.spawn(self._solved(call_id, user, channel, thread, url),
                         name=f"slack-solved-{call_id}")  # fmt: skip

    async def _solved(
        self, call_id: int, user: str, channel: str, thread: str, url: str | None
    ) -> None:
        marked = await self.ops.solved_by_call(call_id, user, url)
        await self.ephemeral(channel, user, MARKED if marked else UNKNOWN_ANSWER)
        if marked is None or marked.proposal is None or not marked.proposal.pending:
            return
        text, blocks = review_message(marked.proposal)
        try:
            await self.client.chat_postMessage(channel=channel, thread_ts=thread, text=text,
                                               blocks=blocks)  # fmt: skip
        except SLACK_ERRORS as error:
            log.warning("posting proposal #%s in %s failed: %s", marked.proposal.id, channel,
                        error)  # fmt: skip

    async def _on_review(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = action_of(body)
        if action is None:
            return
        proposal_id, user, channel, _thread = action
        approve = body["actions"][0].get("action_id") == APPROVE
        ts = str(body["message"]["ts"])
        self.tasks.spawn(self._review(proposal_id, approve, user, channel, ts),
                         name=f"slack-review-{proposal_id}")  # fmt: skip

    async def _review(
        self, proposal_id: int, approve: bool, user: str, channel: str, ts: str
    ) -> None:
        if user not in self.admins:
            log.info("user %s was refused reviewing proposal #%s", user, proposal_id)
            await self.ephemeral(channel, user, NOT_ADMIN)
            return
        if await self.ops.review(proposal_id, approve, user) is None:
            await self.ephemeral(channel, user, REVIEWED)
            return
        text = ADDED if approve else NOT_ADDED
        block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=[block])
        except SLACK_ERRORS as error:
            log.warning("updating proposal #%s in %s failed: %s", proposal_id, channel, error)
