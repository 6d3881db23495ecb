"""The Bolt app: Slack events, buttons and the slash command in; engine and ops calls out
(the "Solved" and knowledge review buttons: `adapters.slack.solved`).

Listeners only validate and translate, then hand the slow part (the LLM answer, Web API calls)
to tracked background tasks, so Slack gets its ack well within 3 s in both connection modes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import run_command
from adapters.slack.config import SlackConfig, web_client
from adapters.slack.format import strip_bot_mention
from adapters.slack.payloads import (
    Posted,
    action_of,
    as_headers,
    describe,
    is_id,
    malformed,
    posted,
    unicode_ok,
)
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
from adapters.slack.solved import SolvedActions
from adapters.slack.tasks import NotStored, Overloaded, TaskTracker
from bot.conversation.engine import Engine
from bot.conversation.intake import Taken
from bot.conversation.messages import Incoming
from bot.operations import Operations

log = logging.getLogger(__name__)

PLATFORM = "slack"
# How long a thread reply without a mention waits for its thread's first question to be stored
# (the two may arrive out of order, or close together in a burst); within Slack's 3 s with the
# store (`SlackConfig.store_wait_s`).
FOLLOW_UP_WAIT_S = 0.8
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
        self._storing: set[str] = set()  # events not yet stored, still being tried
        self.streaming = StreamSupport(config.stream_mode)
        secret = config.signing_secret.get_secret_value() if config.signing_secret else ""
        # HTTP mode verifies every request with the signing secret. Socket Mode has none (the
        # websocket is authenticated by the app token), and slack-sdk refuses an empty secret.
        self._secret = secret
        self.bolt = AsyncApp(
            # Named, or Bolt reads the whole call stack (inspect.stack(), source lines included)
            # for the caller's file name: 20-90 ms an adapter, with the stack of a test runner.
            name="switchboard",
            client=self.client,
            signing_secret=secret or None,
            request_verification_enabled=bool(secret),
            # Listeners are quick (they spawn tasks), so acking after them keeps work tracked.
            process_before_response=True,
        )
        self.solved = SolvedActions(self.ops, self.client, config.admin_user_ids, self.tasks,
                                    self._ephemeral)  # fmt: skip
        self._register()

    def _register(self) -> None:
        bolt = self.bolt
        self.solved.register(bolt)
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
            request = AsyncBoltRequest(body=body, headers=as_headers(headers))
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
        log.warning("ignored a malformed Slack request %s: %s", describe(payload), problem)
        return BoltResponse(status=200, body="")

    async def dispatch(self, request: AsyncBoltRequest) -> Any:
        problem = malformed(request.body)
        if problem:
            # Acked (200) so Slack does not retry a payload that can never be handled.
            log.warning("ignored a malformed Slack request %s: %s",
                        describe(request.body), problem)  # fmt: skip
            return BoltResponse(status=200, body="")
        try:
            response = await self.bolt.async_dispatch(request)
        except Exception:
            # Only a payload Bolt itself cannot handle gets here (listener errors go to
            # _on_error): log it with its trace, answer 400 so Slack does not retry it.
            log.exception("Slack request %s could not be handled", describe(request.body))
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
        """Store the question, then let Bolt acknowledge Slack: a question is never acked
        before it is stored (a crash right after the ack would lose it, and Slack does not
        deliver an acked event again). The answer runs in a tracked task."""
        message = posted(body, event)
        bot_user = getattr(context, "bot_user_id", None)
        if message is None or message.user == bot_user:
            return
        envelope = body.get("event_id", "?")
        allowed = self.config.allowed_channels
        if allowed and message.channel not in allowed and not message.direct:
            log.debug("ignored %s: channel %s is not in SLACK_ALLOWED_CHANNELS", envelope,
                      message.channel)  # fmt: skip
            return
        started = time.monotonic()
        # A channel message without a mention: only follow-ups in threads we took part in.
        if not (mentioned or message.direct) and not (
            message.in_thread and await self._known_thread(message, envelope)
        ):
            return
        incoming = Incoming(
            platform=PLATFORM,
            workspace=message.team,
            channel=message.channel,
            thread=message.thread,
            user=message.user,
            text=strip_bot_mention(message.text, bot_user),
            # The same post arrives as app_mention and message.*, with different event ids;
            # channel + ts names the post itself, so the pair (and every retry) is answered once.
            event_id=f"{message.channel}:{message.ts}",
            admin=message.user in self.config.admin_user_ids,
        )
        log.info("slack event %s (%s) -> %s", envelope, event.get("type"), incoming.event_id)
        name = f"slack-answer-{incoming.event_id}"
        if incoming.event_id in self._storing:  # an earlier delivery waits for the database
            raise NotStored(f"{incoming.event_id} is still waiting for the database")
        self.tasks.ensure_room(name)  # before anything is stored
        left = self.config.store_wait_s - (time.monotonic() - started)
        taken = await self.engine.take(incoming, max(0.1, left))
        if taken.duplicate:
            log.info("slack %s: duplicate", incoming.event_id)
            return
        reply = self._reply(message.channel, message.thread, message.user, message.team)
        self.tasks.spawn(self._answer(incoming, reply, taken), name=name)
        if not taken.settled:  # the answer task goes on storing it; Slack delivers it again
            self._storing.add(incoming.event_id)
            raise NotStored(f"{incoming.event_id} not stored in time: not acknowledged")

    async def _known_thread(self, message: Posted, envelope: str) -> bool:
        """Whether the bot took part in this reply's thread. Its first question may still be
        on its way (Slack does not promise order, and a burst delays it): wait for it,
        bounded, and say so when it never comes."""
        waited, pause = 0.0, 0.05
        while not await self.ops.knows_thread(PLATFORM, message.team, message.channel,
                                              message.thread):  # fmt: skip
            if waited + pause > FOLLOW_UP_WAIT_S:
                log.info("ignored %s: a reply in thread %s of %s, where nobody asked the bot "
                         "(waited %.2f s for its first question)", envelope, message.thread,
                         message.channel, waited)  # fmt: skip
                return False
            await asyncio.sleep(pause)
            waited, pause = waited + pause, pause * 2
        return True

    async def _answer(self, incoming: Incoming, reply: SlackReply, taken: Taken) -> None:
        try:
            outcome = await self.engine.handle(incoming, reply, taken)
        finally:
            self._storing.discard(incoming.event_id)
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
                and isinstance(user, str) and unicode_ok(user)
                and is_id(item.get("channel")) and is_id(item.get("ts"))):  # fmt: skip
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
        action = action_of(body)
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
        action = action_of(body)
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
        if isinstance(error, Overloaded | NotStored):  # Bolt answers 500: Slack delivers it again
            log.warning("Slack event %s pushed back: %s", describe(body), error)
            return
        log.error("Slack listener failed on %s", describe(body), exc_info=error)
