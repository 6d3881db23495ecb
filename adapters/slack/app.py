"""The Bolt app: Slack events, buttons and the slash command in; engine and ops calls out.

Listeners only validate and translate, then hand the slow part (the LLM answer, Web API calls)
to tracked background tasks, so Slack gets its ack well within 3 s in both connection modes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import run_command
from adapters.slack.config import SlackConfig, web_client
from adapters.slack.format import strip_bot_mention
from adapters.slack.reply import (
    ESCALATE,
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    SLACK_ERRORS,
    ReplyTarget,
    SlackReply,
    StreamSupport,
)
from adapters.slack.signing import signed
from adapters.slack.tasks import Overloaded, TaskTracker
from bot.conversation.engine import Engine
from bot.conversation.messages import Incoming
from bot.operations import Operations

log = logging.getLogger(__name__)

PLATFORM = "slack"
# Message subtypes that are still a person asking something; every other subtype (edits,
# deletions, joins, bot posts) is ignored.
USER_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
# What Bolt raises when a body's shape is not what Slack sends (it assumes it is).
_UNPARSEABLE = (ValueError, AttributeError, TypeError, KeyError, RecursionError)
THUMBS = {"+1": 1, "thumbsup": 1, "-1": -1, "thumbsdown": -1}


class SlackAdapter:
    """One Slack workspace connection: the Bolt app, its Web API client and its background work."""

    def __init__(
        self,
        engine: Engine,
        ops: Operations,
        config: SlackConfig,
        client: AsyncWebClient | None = None,
    ) -> None:
        self.engine = engine
        self.ops = ops
        self.config = config
        self.client = client or web_client(config.bot_token, config.api_url)
        self.tasks = TaskTracker()
        self.streaming = StreamSupport(config.stream_mode)
        secret = config.signing_secret.get_secret_value() if config.signing_secret else ""
        # HTTP mode verifies every request with the signing secret. Socket Mode has none (the
        # websocket is authenticated by the app token), and slack-sdk refuses an empty secret.
        self._secret = secret
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=secret or None,
            request_verification_enabled=bool(secret),
            # Listeners are quick (they spawn tasks), so acking after them keeps work tracked.
            process_before_response=True,
        )
        self._register()

    def _register(self) -> None:
        bolt = self.bolt
        bolt.event("app_mention")(self._on_mention)
        bolt.event("message")(self._on_message)
        bolt.event("reaction_added")(self._on_reaction)
        bolt.event("reaction_removed")(self._on_reaction)
        bolt.action(FEEDBACK_UP)(self._on_feedback_button)
        bolt.action(FEEDBACK_DOWN)(self._on_feedback_button)
        bolt.action(ESCALATE)(self._on_escalate)
        bolt.command(self.config.slash_command)(self._on_command)
        bolt.error(self._on_error)
        # Last, so it only sees event types nothing above handles: ack them and say so.
        bolt.event(re.compile(r"^.+$"))(self._on_other_event)

    async def dispatch_http(self, body: bytes | str, headers: Mapping[str, str]) -> BoltResponse:
        """One HTTP request from Slack (signed); a body Bolt cannot parse gets 400 (or 401)."""
        headers = {name.lower(): value for name, value in headers.items()}
        raw = body if isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
        # The signature first: an unsigned body is never parsed (5,000-level JSON, huge bodies).
        # Without a signing secret (Socket Mode) nothing that arrives over HTTP is trusted.
        if not signed(raw, headers, self._secret):
            log.warning("rejected a Slack request: bad or stale signature (timestamp %s)",
                        ascii(headers.get("x-slack-request-timestamp", "?"))[:20])  # fmt: skip
            return BoltResponse(status=401, body="")
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("rejected a signed Slack request: its body is not UTF-8 (%d bytes)",
                        len(raw))  # fmt: skip
            return BoltResponse(status=400, body="")
        try:
            request = AsyncBoltRequest(body=body, headers=_headers(headers))
        except _UNPARSEABLE as error:  # Bolt parses the body and reads ids out of it eagerly
            log.warning("rejected a malformed Slack request (%s): %r",
                        type(error).__name__, body[:200])  # fmt: skip
            return BoltResponse(status=400, body="")
        return await self.dispatch(request)

    async def dispatch_socket(
        self, payload: Any, headers: Mapping[str, str | Sequence[str]] | None = None
    ) -> Any:
        """One Socket Mode envelope's payload (already JSON-decoded by the SDK)."""
        problem = malformed(payload)
        if not problem:
            try:
                request = AsyncBoltRequest(body=payload, headers=dict(headers or {}),
                                           mode="socket_mode")  # fmt: skip
            except _UNPARSEABLE as error:
                problem = type(error).__name__
            else:
                return await self.dispatch(request)
        log.warning("ignored a malformed Slack request %s: %s", _describe(payload), problem)
        return BoltResponse(status=200, body="")

    async def dispatch(self, request: AsyncBoltRequest) -> Any:
        problem = malformed(request.body)
        if problem:
            # Acked (200) so Slack does not retry a payload that can never be handled.
            log.warning("ignored a malformed Slack request %s: %s",
                        _describe(request.body), problem)  # fmt: skip
            return BoltResponse(status=200, body="")
        try:
            response = await self.bolt.async_dispatch(request)
        except Exception:
            # Only a payload Bolt itself cannot handle gets here (listener errors go to
            # _on_error): log it with its trace, answer 400 so Slack does not retry it.
            log.exception("Slack request %s could not be handled", _describe(request.body))
            return BoltResponse(status=400, body="")
        if response.status == 401:
            # Bolt only logs this at INFO, with the whole body; say it plainly, without the body.
            log.warning("rejected a Slack request: bad or stale signature (timestamp %s)",
                        request.headers.get("x-slack-request-timestamp", ["?"])[0])  # fmt: skip
        elif response.status >= 400:
            log.warning("Slack request answered %s: %s", response.status, response.body[:200])
        return response

    async def drain(self) -> None:
        await self.tasks.drain()

    async def close(self) -> None:
        """Let answers in flight finish (up to SHUTDOWN_GRACE_S), then cancel the rest."""
        await self.tasks.close(self.config.shutdown_grace_s)

    # --- messages -----------------------------------------------------------------------

    async def _on_mention(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        await self._take(body, event, context, mentioned=True)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any], context: Any) -> None:
        await self._take(body, event, context, mentioned=False)

    async def _take(
        self, body: dict[str, Any], event: dict[str, Any], context: Any, *, mentioned: bool
    ) -> None:
        envelope = body.get("event_id", "?")
        subtype = event.get("subtype")
        if event.get("bot_id") or (subtype and (not isinstance(subtype, str)
                                                or subtype not in USER_SUBTYPES)):  # fmt: skip
            log.debug("ignored %s (subtype %s, bot %s)", envelope, subtype, event.get("bot_id"))
            return
        bot_user = getattr(context, "bot_user_id", None)
        user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
        text = event.get("text")
        team = body.get("team_id") or event.get("team") or ""
        thread_ts = event.get("thread_ts")
        if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)
                and isinstance(text, str) and isinstance(team, str)
                and _unicode(user, channel, ts, team) and user and channel and ts
                and (thread_ts is None or (isinstance(thread_ts, str) and _unicode(thread_ts)))
                ):  # fmt: skip
            log.warning("ignored malformed message event %s: no user/channel/ts/text", envelope)
            return
        if user == bot_user:
            return
        allowed = self.config.allowed_channels
        is_dm = event.get("channel_type") == "im"
        if allowed and channel not in allowed and not is_dm:
            log.debug("ignored %s: channel %s is not in SLACK_ALLOWED_CHANNELS", envelope, channel)
            return
        thread = thread_ts if isinstance(thread_ts, str) and thread_ts else ts
        # A channel message without a mention: only follow-ups in threads we took part in.
        if not (mentioned or is_dm) and (
            thread == ts or not await self.ops.knows_thread(PLATFORM, team, channel, thread)
        ):
            return
        incoming = Incoming(
            platform=PLATFORM,
            workspace=team,
            channel=channel,
            thread=thread,
            user=user,
            text=strip_bot_mention(text, bot_user),
            # The same post arrives as app_mention and message.*, with different event ids;
            # channel + ts names the post itself, so the pair (and every retry) is answered once.
            event_id=f"{channel}:{ts}",
            admin=user in self.config.admin_user_ids,
        )
        log.info("slack event %s (%s) -> %s", envelope, event.get("type"), incoming.event_id)
        reply = self._reply(channel, thread, user, team)
        self.tasks.spawn(self._answer(incoming, reply), name=f"slack-answer-{incoming.event_id}")

    async def _answer(self, incoming: Incoming, reply: SlackReply) -> None:
        outcome = await self.engine.handle(incoming, reply)
        log.info("slack %s: %s", incoming.event_id, outcome.status)

    def recovery_reply(self, incoming: Incoming) -> SlackReply:
        """The reply for a question answered after a restart (see `Engine.recover`)."""
        return self._reply(incoming.channel, incoming.thread, incoming.user, incoming.workspace)

    async def keep_recovering(self) -> None:
        """At start-up and then periodically: answer what a crashed process left unanswered."""
        await self.engine.keep_recovering(PLATFORM, self.recovery_reply)

    def _reply(self, channel: str, thread: str, user: str, team: str) -> SlackReply:
        return SlackReply(
            self.client,
            ReplyTarget(channel=channel, thread_ts=thread, user=user, team=team),
            self.streaming,
            show_context_line=self.config.show_context_line,
            handoff_group=self.config.handoff_group,
        )

    # --- feedback and escalation ----------------------------------------------------------

    async def _on_reaction(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        name = str(event.get("reaction", "")).split("::")[0]  # drop skin tones
        item = event.get("item")
        user = event.get("user")
        if not (name in THUMBS and isinstance(item, dict) and item.get("type") == "message"
                and isinstance(user, str) and _unicode(user)
                and _is_id(item.get("channel")) and _is_id(item.get("ts"))):  # fmt: skip
            return
        value = THUMBS[name] if event.get("type") == "reaction_added" else 0
        post = f"{item.get('channel')}:{item.get('ts')}"
        self.tasks.spawn(self._reaction(post, user, value), name=f"slack-reaction-{post}")

    async def _reaction(self, post: str, user: str, value: int) -> None:
        call_id = await self.ops.feedback(PLATFORM, post, user, value, "reaction")
        if call_id is not None:
            log.info("feedback %+d from %s on call %s (reaction)", value, user, call_id)

    async def _on_feedback_button(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = _action(body)
        if action is None:
            return
        call_id, user, channel, _thread = action
        value = 1 if body["actions"][0].get("action_id") == FEEDBACK_UP else -1
        self.tasks.spawn(self._button_feedback(call_id, user, channel, value),
                         name=f"slack-feedback-{call_id}")  # fmt: skip

    async def _button_feedback(self, call_id: int, user: str, channel: str, value: int) -> None:
        stored = await self.ops.feedback_on_call(call_id, user, value, "button")
        text = "Thanks, noted." if stored else "I can't find that answer any more."
        await self._ephemeral(channel, user, text)

    async def _on_escalate(self, ack: Any, body: dict[str, Any]) -> None:
        await ack()
        action = _action(body)
        if action is None:
            return
        call_id, user, channel, thread = action
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        reply = self._reply(channel, thread, user, str(team))
        self.tasks.spawn(self._escalate(call_id, user, channel, reply),
                         name=f"slack-escalate-{call_id}")  # fmt: skip

    async def _escalate(self, call_id: int, user: str, channel: str, reply: SlackReply) -> None:
        admin = user in self.config.admin_user_ids
        outcome = await self.engine.escalate(call_id, user, reply, admin=admin)
        log.info("slack escalation of call %s: %s", call_id, outcome.status)
        if outcome.status == "duplicate":
            await self._ephemeral(channel, user, "A stronger model already answered this one.")

    async def _ephemeral(self, channel: str, user: str, text: str) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SLACK_ERRORS as error:
            log.warning("chat.postEphemeral in %s failed: %s", channel, error)

    # --- slash command, errors, the rest -------------------------------------------------

    async def _on_command(self, ack: Any, body: dict[str, Any]) -> None:
        try:
            reply = await run_command(
                self.ops,
                self.config,
                text=str(body.get("text") or ""),
                team=str(body.get("team_id") or ""),
                channel=str(body.get("channel_id") or ""),
                user=str(body.get("user_id") or ""),
            )
        except Exception:  # the command must still answer; the trace goes to the log
            log.exception("slash command %r failed", body.get("text"))
            await ack(text=":warning: Something went wrong; the error was logged. Try again.")
            return
        await ack(text=reply.text, response_type=reply.response_type)

    async def _on_other_event(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        log.info("ignored Slack event type %r (%s)", event.get("type"), body.get("event_id"))

    async def _on_error(self, error: Exception, body: dict[str, Any]) -> None:
        if isinstance(error, Overloaded):  # Bolt answers 500: Slack delivers the event again
            log.warning("Slack event %s pushed back: %s", _describe(body), error)
            return
        log.error("Slack listener failed on %s", _describe(body), exc_info=error)


def _action(body: dict[str, Any]) -> tuple[int, str, str, str] | None:
    """(call id, user, channel, thread ts) of a button press, or None when malformed."""
    try:
        action = body["actions"][0]
        call_id = int(action["value"])
        user = str(body["user"]["id"])
        channel = str(body["channel"]["id"])
        message = body["message"]
        thread = str(message.get("thread_ts") or message["ts"])
    except (KeyError, IndexError, TypeError, ValueError):
        log.warning("ignored malformed button payload: %s", _describe(body))
        return None
    return call_id, user, channel, thread


def malformed(body: Any) -> str:
    """Why Bolt must not see `body` ("" when it may): Bolt assumes an event is an object."""
    if not isinstance(body, dict):
        return "not a JSON object"
    if body.get("type") == "event_callback" or "event" in body:
        event = body.get("event")
        if not isinstance(event, dict):
            return "its event is not an object"
        if not isinstance(event.get("type"), str):
            return "its event has no type"
    for key in ("type", "team_id", "event_id"):
        if key in body and not (isinstance(body[key], str) and _unicode(body[key])):
            return f"bad {key}"
    return ""


def _unicode(*values: str) -> bool:
    """Valid Unicode (no lone surrogates): what every platform id is, and what a database and
    Slack's API can store and send."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and _unicode(value)


def _headers(headers: Mapping[str, str]) -> dict[str, str | Sequence[str]]:
    return dict(headers.items())


def _describe(body: Any) -> str:
    if not isinstance(body, dict):
        return "request"
    return ascii(body.get("event_id") or body.get("type") or "request")[:80]
