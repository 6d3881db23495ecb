from __future__ import annotations

import time

from adapters.slack.reply import ESCALATE, FEEDBACK_DOWN, FEEDBACK_UP, SOLVED
from tests.adapters.slack.conftest import MakeHarness
from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.slack.harness import CHANNEL, envelope, mention, message
from tests.conftest import Database
from tests.fakes import FakeProvider, Scripted


async def test_mention_gets_one_threaded_streamed_answer_with_context_line(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    slack = await make_harness(sqlite_db)
    started = time.perf_counter()
    response = await slack.http(envelope(mention("What are your opening hours?", "100.000100")))
    acked_in = time.perf_counter() - started
    assert response.status == 200
    assert acked_in < 3.0
    # Slack also delivers the same post as a message.channels event, with another event id.
    await slack.http(envelope(message("<@UBOT> What are your opening hours?", "100.000100")))
    await slack.settle()

    [answer] = slack.answers()
    assert answer.streamed and answer.thread_ts == "100.000100" and answer.channel == CHANNEL
    assert answer.body.startswith("Here is how")
    context = answer.block("context")
    assert context is not None
    line = context["elements"][0]["text"]
    assert "openai/gpt-4o" in line and " ms" in line and "$" in line
    actions = answer.block("actions")
    assert actions is not None
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == [FEEDBACK_UP, FEEDBACK_DOWN, ESCALATE, SOLVED]
    [status] = fake_slack.named("assistant.threads.setStatus")
    assert status.args["thread_ts"] == "100.000100"
    [start] = fake_slack.named("chat.startStream")
    assert start.args["recipient_user_id"] == "U42" and start.args["recipient_team_id"] == "T1"
    assert len(await slack.calls()) == 1


async def test_retries_and_a_redelivery_after_restart_answer_once(
    database: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    event = envelope(mention("How do I reset my password?", "200.000100"), event_id="EvRETRY")
    first = await make_harness(database)
    responses = [
        await first.http(event),
        await first.http(event, retry=1),
        await first.http(event, retry=2),
    ]
    assert [r.status for r in responses] == [200, 200, 200]
    await first.settle()
    assert len(first.answers()) == 1
    assert len(await first.calls()) == 1

    restarted = await make_harness(database)  # a new process: new App, same database
    await restarted.http(event, retry=3)
    await restarted.socket(event)  # and the same event again over Socket Mode
    await restarted.settle()
    assert len(restarted.answers()) == 1
    assert len(await restarted.calls()) == 1
    assert len(fake_slack.named("chat.startStream")) == 1


async def test_follow_up_uses_history_and_other_threads_are_ignored(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    slack = await make_harness(sqlite_db)
    await slack.socket(envelope(mention("My invoice total looks wrong", "300.000100")))
    await slack.settle()
    [first] = slack.answers()

    # No mention needed in a thread the bot took part in.
    await slack.socket(envelope(message("It shows 40 EUR twice", "300.000200", "300.000100")))
    await slack.settle()
    answers = slack.answers()
    assert len(answers) == 2 and answers[1].thread_ts == "300.000100"
    sent = [m.content for m in provider.requests[-1].messages]
    assert "My invoice total looks wrong" in sent
    assert first.body in sent
    assert sent[-1] == "It shows 40 EUR twice"

    asked = len(provider.requests)
    await slack.socket(envelope(message("unrelated chat", "400.000200", "400.000100")))
    await slack.socket(envelope(message("top-level, no mention", "500.000100")))
    await slack.settle()
    assert len(provider.requests) == asked
    assert len(slack.answers()) == 2


async def test_direct_messages_are_answered_without_a_mention(
    sqlite_db: Database, make_harness: MakeHarness
) -> None:
    slack = await make_harness(sqlite_db, slack_allowed_channels="C9")
    await slack.http(
        envelope(message("hello there", "600.000100", channel="D1", channel_type="im"))
    )
    await slack.http(envelope(mention("not an allowed channel", "600.000200")))
    await slack.settle()
    [answer] = slack.answers()
    assert answer.channel == "D1" and answer.thread_ts == "600.000100"


async def test_model_output_mentions_nobody(
    sqlite_db: Database,
    make_harness: MakeHarness,
    provider: FakeProvider,
    fake_slack: FakeSlack,
) -> None:
    provider.default = Scripted(
        text=(
            "Hey <!channel> and <!here>, ask <@U123> or <@W9|bob> or <!subteam^S1|@devs>. "
            "Also @everyone and @here should know."
        )
    )
    slack = await make_harness(sqlite_db)
    await slack.http(envelope(mention("Who should I ask?", "700.000100")))
    await slack.settle()
    [answer] = slack.answers()
    shown = [answer.body, answer.text] + [
        str(c.args) for c in fake_slack.calls if c.method.startswith("chat.")
    ]
    for text in shown:
        for live in ("<!channel>", "<!here>", "<@U123>", "<@W9", "<!subteam", "<!"):
            assert live not in text
        assert "@everyone" not in text and " @here" not in text
    assert "channel" in answer.body and "bob" in answer.body and "devs" in answer.body


async def test_long_answer_arrives_complete_split_with_balanced_fences(
    sqlite_db: Database, make_harness: MakeHarness, provider: FakeProvider
) -> None:
    lines: list[str] = []
    block = 0
    while len("\n".join(lines)) < 8700:
        lines += [f"Step {block}: run the following.", "```python"]
        lines += [f"value_{block}_{i} = compute({block}, {i})  # line {i}" for i in range(5)]
        lines += ["```", ""]
        block += 1
    text = "\n".join(lines)
    text += "Done" + "." * (9000 - len(text) - 4)
    assert len(text) == 9000
    provider.default = Scripted(text=text)
    slack = await make_harness(sqlite_db, llm_max_output_tokens=8000)
    await slack.http(envelope(mention("Show me all the steps", "800.000100")))
    await slack.settle()
    answers = slack.answers()
    assert len(answers) >= 3
    for part in answers:
        assert len(part.body) <= 3900
        assert part.body.count("```") % 2 == 0
        assert part.thread_ts == "800.000100"
    kept = [ln for p in answers for ln in p.body.split("\n") if ln.strip() and "```" not in ln]
    expected = [ln for ln in text.split("\n") if ln.strip() and "```" not in ln]
    assert kept == expected
    assert [a.block("context") is not None for a in answers] == [False] * (len(answers) - 1) + [
        True
    ]


async def test_without_native_streaming_posts_then_updates(
    sqlite_db: Database, make_harness: MakeHarness, fake_slack: FakeSlack
) -> None:
    fake_slack.native_streaming = False
    fake_slack.assistant_status = False
    slack = await make_harness(sqlite_db)
    await slack.socket(envelope(mention("Where is my order?", "900.000100")))
    await slack.settle()
    [answer] = slack.answers()
    assert not answer.streamed and answer.body.startswith("Here is how")
    assert answer.block("context") is not None
    # The "thinking" placeholder became the answer: one post, then updates of that post.
    [post] = fake_slack.named("chat.postMessage")
    assert post.args["text"] == "_Thinking…_"
    assert all(c.args["ts"] == answer.ts for c in fake_slack.named("chat.update"))
