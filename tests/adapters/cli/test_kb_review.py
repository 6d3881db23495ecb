"""`switchboard kb review` as an admin runs it: the waiting proposals listed, decided by id from
a script, or one by one in a terminal; each mistake one line and exit code 2."""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stderr, redirect_stdout

import pytest

from adapters.cli.main import main
from adapters.composition import Switchboard
from bot.knowledge.config import SOLVED_COLLECTION
from storage.knowledge import KnowledgeStore
from storage.tables import utcnow
from tests.adapters.cli.environment import only_env
from tests.conftest import Database, MakeApp, fixed_app
from tests.fakes import RecordingReply, incoming


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def run(database: Database, *argv: str, typed: str | None = None) -> tuple[int, str, str]:
    out, err = (io.StringIO(), io.StringIO()) if typed is None else (Terminal(), io.StringIO())
    path = database.url.split("///", 1)[1]
    with redirect_stdout(out), redirect_stderr(err), pytest.MonkeyPatch.context() as patch:
        if typed is not None:
            patch.setattr("sys.stdin", Terminal(typed))
        code = await asyncio.to_thread(main, ["kb", "review", *argv, "--database", path])
    return code, out.getvalue(), err.getvalue()


async def solved_thread(app: Switchboard, question: str, thread: str) -> None:
    reply = RecordingReply()
    await app.engine.handle(incoming(question, f"e-{thread}", thread=thread), reply)
    assert reply.meta is not None
    await app.ops.solved_by_call(reply.meta.call_id, "U1", url=f"https://acme.test/{thread}")


async def test_review_lists_decides_by_id_and_asks_in_a_terminal(
    sqlite_db: Database, make_app: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_env(monkeypatch)  # TIMEZONE is UTC, as the app's
    app = await fixed_app(make_app, sqlite_db)
    for n, question in enumerate(("How do I rotate my API key?", "Can I export invoices?",
                                  "Where is the audit log?"), 1):  # fmt: skip
        await solved_thread(app, question, f"t{n}")

    code, out, err = await run(sqlite_db)  # not a terminal: listed, nothing decided
    assert (code, err) == (0, "")
    assert out.startswith("3 solved thread(s) wait for review")
    assert "#1  " in out and "    https://acme.test/t1\n" in out
    assert "    Question: How do I rotate my API key?\n" in out
    assert "    Answer (the bot's answer): Here is how to do that" in out

    code, out, err = await run(sqlite_db, "--approve", "1", "--reject", "#2")
    day = utcnow().date()
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"approved #1: added to the 'solved' collection as “a solved thread of {day}”",
        "rejected #2: this answer of its thread will not be proposed again",
    ]
    code, _, err = await run(sqlite_db, "--approve", "1", "9")
    decided, unknown = err.splitlines()
    assert code == 2 and decided.startswith("switchboard: proposal #1 was approved by cli")
    assert unknown == (
        "switchboard: proposal #9 does not exist (see `switchboard kb review --list`)"
    )
    assert (await run(sqlite_db, "--approve", "one"))[0] == 2
    assert (await run(sqlite_db, "--approve", "3", "--reject", "3"))[0] == 2

    code, out, _ = await run(sqlite_db, typed="maybe\na\n")  # a terminal: asked, one by one
    assert code == 0 and "Where is the audit log?" in out and "type a (approve)" in out
    assert "approved #3" in out
    assert (await run(sqlite_db))[1] == "no solved thread waits for review\n"
    store = KnowledgeStore(app.stores.db)
    entries = await store.documents(SOLVED_COLLECTION)
    await store.close()
    assert sorted(e.url or "" for e in entries) == ["https://acme.test/t1", "https://acme.test/t3"]
