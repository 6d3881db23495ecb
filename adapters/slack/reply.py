"""A streamed answer in a Slack thread: native chat streaming where allowed, else post + update."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.format import link, neutralize_mentions, safe_prefix_length
from bot.conversation.messages import AnswerMeta, ReplyLimits
from bot.conversation.text import split_message

log = logging.getLogger(__name__)

# Slack rejects plain text past ~4,000 characters (msg_too_long); keep a margin for fences.
SLACK_LIMITS = ReplyLimits(max_chars=3900, min_edit_interval_s=1.0)
SLACK_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError)

FEEDBACK_UP = "switchboard_feedback_up"
FEEDBACK_DOWN = "switchboard_feedback_down"
ESCALATE = "switchboard_escalate"
SOLVED = "switchboard_solved"
THINKING = "is thinking…"
PLACEHOLDER = "_Thinking…_"

StreamMode = Literal["auto", "native", "update"]


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes, and who it is for (Slack's streaming needs the recipient)."""

    channel: str
    thread_ts: str
    user: str
    team: str


class StreamSupport:
    """Whether to try Slack's native streaming; in "auto" one refusal turns it off for good."""

    def __init__(self, mode: StreamMode) -> None:
        self.mode = mode
        self.native = mode != "update"

    def refused(self, error: str) -> None:
        if self.mode == "auto" and self.native:
            log.info("Slack native streaming unavailable (%s); using post + chat.update", error)
            self.native = False


def answer_blocks(meta: AnswerMeta, show_context_line: bool) -> list[dict[str, Any]]:
    """The sources, the context line and the feedback, escalation and "Solved" buttons under
    the last part of an answer."""
    blocks: list[dict[str, Any]] = []
    if meta.sources:
        cited = " · ".join(link(c.url, c.label if c.url else f"{c.label} ({c.path})")
                           for c in meta.sources)  # fmt: skip
        text = f"*Sources:* {cited}"[:3000]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    if show_context_line:
        line = neutralize_mentions(meta.context_line())
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line}]})
    if not meta.call_id:  # its ledger row waits for the database: nothing to press yet
        return blocks
    value = str(meta.call_id)
    buttons: list[dict[str, Any]] = [
        _button("👍", FEEDBACK_UP, value),
        _button("👎", FEEDBACK_DOWN, value),
    ]
    if meta.tier != "premium":
        buttons.append(_button("Ask a stronger model", ESCALATE, value))
    buttons.append(_button("✅ Solved", SOLVED, value))
    blocks.append({"type": "actions", "block_id": "switchboard_answer", "elements": buttons})
    return blocks


def _button(label: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _body(text: str, tail: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    # A markdown block renders the model's standard Markdown the way the streamed message did.
    return [{"type": "markdown", "text": text}, *(tail or [])]


class SlackReply:
    """Implements `bot.messages.Reply` for one answer in one Slack thread."""

    limits = SLACK_LIMITS

    def __init__(
        self,
        client: AsyncWebClient,
        target: ReplyTarget,
        support: StreamSupport,
        *,
        show_context_line: bool = True,
        handoff_group: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._handoff_group = handoff_group  # a user group id (S...): pinged on a hand-off
        self._target = target
        self._support = support
        self._show_context = show_context_line
        self._clock = clock
        self._text = ""  # raw answer so far
        self._shown = ""  # neutralized text already visible in Slack
        self._stream_ts: str | None = None  # a native stream in progress
        self._ts: str | None = None  # the message updated in place (placeholder or first part)
        self._native = support.native
        self._last_update = float("-inf")
        self._orphan: str | None = None  # a crashed process's native stream, still open
        self._started = False

    @property
    def checkpoint(self) -> str:
        """The message this answer is shown in, for whoever resumes it after a crash."""
        if self._stream_ts is not None:
            return f"stream:{self._stream_ts}"
        return f"post:{self._ts}" if self._ts is not None else ""

    def resume(self, checkpoint: str) -> None:
        """Take over the message a crashed process left half-written: it is edited in place
        into this answer (a native stream is stopped first), so no second message appears."""
        kind, _, ts = checkpoint.partition(":")
        if kind not in ("stream", "post") or not ts:
            return
        self._ts, self._native = ts, False
        if kind == "stream":
            self._orphan = ts

    async def _close_orphan(self) -> None:
        if self._orphan is not None:
            await self._call("chat_stopStream", ts=self._orphan)
            self._orphan = None

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self._close_orphan()
        if self._native:
            try:
                await self._client.assistant_threads_setStatus(
                    channel_id=self._target.channel,
                    thread_ts=self._target.thread_ts,
                    status=THINKING,
                )
                return
            except SLACK_ERRORS as error:
                log.info("assistant.threads.setStatus failed (%s)", _reason(error))
                if self._support.mode == "native":
                    return
        # No status line: a placeholder shows the answer is coming, then becomes the answer.
        self._native = False
        await self._post_or_update(PLACEHOLDER)

    async def append(self, text: str) -> None:
        self._text += text
        now = self._clock()
        first = self._stream_ts is None and self._ts is None
        if not first and now - self._last_update < self.limits.min_edit_interval_s:
            return
        visible = neutralize_mentions(self._text[: safe_prefix_length(self._text)])
        if not visible.strip() or visible == self._shown or len(visible) > self.limits.max_chars:
            return  # nothing new and whole to show yet, or the rest waits for finish() to split
        self._last_update = now
        if self._native and await self._stream(visible):
            return
        await self._post_or_update(visible)
        self._shown = visible

    async def finish(self, text: str, meta: AnswerMeta) -> list[str]:
        await self._close_orphan()
        parts = split_message(neutralize_mentions(text), self.limits.max_chars) or ["_(no text)_"]
        tail = answer_blocks(meta, self._show_context)
        posted: list[str] = []
        first, rest = parts[0], parts[1:]
        first_tail = None if rest else tail
        if self._stream_ts is not None:
            if await self._stop_stream(first, first_tail):
                posted.append(self._stream_ts)
        elif self._ts is not None:
            blocks = _body(first, first_tail)
            if await self._call("chat_update", ts=self._ts, text=first, blocks=blocks):
                posted.append(self._ts)
        else:
            ts = await self._post(first, first_tail)
            if ts:
                posted.append(ts)
        for index, part in enumerate(rest, start=1):
            ts = await self._post(part, tail if index == len(rest) else None)
            if ts:
                posted.append(ts)
        return [f"{self._target.channel}:{ts}" for ts in posted]

    async def hand_off(self, message: str) -> list[str]:
        """`message` (mentions neutralized), then the configured user group: the one ping."""
        await self._close_orphan()
        text = neutralize_mentions(message)
        if self._handoff_group:
            text += f" <!subteam^{self._handoff_group}>"
        if self._stream_ts is not None:
            await self._call("chat_stopStream", ts=self._stream_ts)
            self._stream_ts = None
        await self._post_or_update(text)
        return [f"{self._target.channel}:{self._ts}"] if self._ts else []

    async def fail(self, message: str) -> None:
        await self._close_orphan()
        notice = neutralize_mentions(f":warning: {message}")
        if self._stream_ts is not None:
            await self._call("chat_stopStream", ts=self._stream_ts, markdown_text="\n\n" + notice)
        else:
            await self._post_or_update(notice)

    # --- Slack calls -------------------------------------------------------------------

    async def _stream(self, visible: str) -> bool:
        """Show `visible` through native streaming; False when the caller should post instead."""
        if self._stream_ts is None:
            try:
                response = await self._client.chat_startStream(
                    channel=self._target.channel,
                    thread_ts=self._target.thread_ts,
                    recipient_team_id=self._target.team or None,
                    recipient_user_id=self._target.user or None,
                    markdown_text=visible,
                )
            except SLACK_ERRORS as error:
                self._support.refused(_reason(error))
                self._native = False
                return False
            self._stream_ts = str(response["ts"])
            self._shown = visible
            return True
        if visible.startswith(self._shown) and len(visible) > len(self._shown):
            delta = visible[len(self._shown) :]
            if await self._call("chat_appendStream", ts=self._stream_ts, markdown_text=delta):
                self._shown = visible
        return True

    async def _stop_stream(self, first: str, tail: list[dict[str, Any]] | None) -> bool:
        assert self._stream_ts is not None
        if first.startswith(self._shown):
            rest = first[len(self._shown) :] or None
            return await self._call(
                "chat_stopStream", ts=self._stream_ts, markdown_text=rest, blocks=tail
            )
        # The final text differs from what was streamed (a notice was added): replace it.
        await self._call("chat_stopStream", ts=self._stream_ts)
        return await self._call(
            "chat_update", ts=self._stream_ts, text=first, blocks=_body(first, tail)
        )

    async def _post_or_update(self, text: str) -> None:
        if self._ts is None:
            self._ts = await self._post(text, None)
        else:
            await self._call("chat_update", ts=self._ts, text=text, blocks=_body(text))

    async def _post(self, text: str, tail: list[dict[str, Any]] | None) -> str | None:
        try:
            response = await self._client.chat_postMessage(
                channel=self._target.channel,
                thread_ts=self._target.thread_ts,
                text=text,
                blocks=_body(text, tail),
                unfurl_links=False,
                unfurl_media=False,
            )
        except SLACK_ERRORS as error:
            log.warning("chat.postMessage in %s failed: %s", self._target.channel, _reason(error))
            return None
        return str(response["ts"])

    async def _call(self, method: str, **kwargs: Any) -> bool:
        """One Web API call on this reply's channel; a failure is logged, never raised, so the
        rest of the answer still gets posted."""
        try:
            await getattr(self._client, method)(channel=self._target.channel, **kwargs)
        except SLACK_ERRORS as error:
            log.warning("%s in %s failed: %s", method, self._target.channel, _reason(error))
            return False
        return True


def _reason(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if response is not None:
        try:
            return str(response.get("error") or error)
        except AttributeError:
            pass
    return str(error) or type(error).__name__
