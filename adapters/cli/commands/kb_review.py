"""`switchboard kb review`: the solved threads proposed as knowledge entries, approved or
rejected by an admin: by id for scripts (`--approve ID...`, `--reject ID...`), one by one in a
terminal, listed otherwise (`--list`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from zoneinfo import ZoneInfo

from adapters.cli.errors import say
from adapters.cli.options import settings_for
from adapters.knowledge.library import Library
from bot.errors import ConfigError
from bot.knowledge.config import SOLVED_COLLECTION
from bot.learning.solved import SolvedThreads, answer_label
from bot.notices import clip
from storage.solved import Proposal, Proposals

CHOICES = {"a": True, "approve": True, "r": False, "reject": False}


def register(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    review = sub.add_parser(
        "review",
        help="approve or reject solved threads proposed as knowledge entries",
        description="Threads marked Solved propose their question and the answer that solved "
        "it; approved, they join the 'solved' collection (docs/knowledge.md). In a terminal, "
        "each waiting proposal is shown and asked about; otherwise they are listed.",
    )
    review.add_argument("--approve", nargs="+", metavar="ID", default=[],
                        help="approve these proposals (no questions asked)")  # fmt: skip
    review.add_argument("--reject", nargs="+", metavar="ID", default=[],
                        help="reject these: the same answer is never proposed again")  # fmt: skip
    review.add_argument("--list", action="store_true",
                        help="only list those waiting (default outside a terminal)")  # fmt: skip
    return review


async def review(args: argparse.Namespace, library: Library) -> int:
    approve, reject = _ids(args.approve, "--approve"), _ids(args.reject, "--reject")
    if set(approve) & set(reject):
        raise ConfigError("kb review: an id cannot be both approved and rejected")
    zone = ZoneInfo(settings_for(args).timezone)
    solved = SolvedThreads(Proposals(library.store.db), library.ingest, zone)
    by = _reviewer()
    if approve or reject:
        decided = [await _decide(solved, n, True, by) for n in approve]
        decided += [await _decide(solved, n, False, by) for n in reject]
        return 0 if all(decided) else 2
    waiting = await solved.proposals.pending()
    if not waiting:
        print("no solved thread waits for review")
        return 0
    if args.list or not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(f"{len(waiting)} solved thread(s) wait for review (`switchboard kb review "
              "--approve ID` or `--reject ID`):")  # fmt: skip
        for proposal in waiting:
            _show(proposal, zone, width=160)
        return 0
    for proposal in waiting:
        _show(proposal, zone, width=2000)
        choice = await _ask()
        if choice is None:
            break
        if choice in CHOICES:
            await _decide(solved, proposal.id, CHOICES[choice], by)
    return 0


async def _ask() -> str | None:
    """The reviewer's choice for one proposal; None to stop (q, or end of input)."""
    while True:
        try:
            answer = await asyncio.to_thread(input, "approve, reject, skip or quit? [a/r/s/q] ")
        except EOFError:
            return None
        choice = answer.strip().lower()
        if choice in ("q", "quit"):
            return None
        if choice in CHOICES or choice in ("s", "skip", ""):
            return choice
        print("type a (approve), r (reject), s (skip) or q (quit)")


async def _decide(solved: SolvedThreads, proposal_id: int, approve: bool, by: str) -> bool:
    proposal = await solved.decide(proposal_id, approve, by)
    if proposal is None:
        found = await solved.proposals.get(proposal_id)
        state = f"was {found.status} by {found.decided_by}" if found else "does not exist"
        say(f"proposal #{proposal_id} {state} (see `switchboard kb review --list`)")
        return False
    if approve:
        print(f"approved #{proposal_id}: added to the {SOLVED_COLLECTION!r} collection as "
              f"“{solved.title(proposal)}”")  # fmt: skip
    else:
        print(f"rejected #{proposal_id}: this answer of its thread will not be proposed again")
    return True


def _show(proposal: Proposal, zone: ZoneInfo, width: int) -> None:
    thread = proposal.thread
    day = proposal.created_at.astimezone(zone).date()
    print(f"#{proposal.id}  {day}  {thread.platform} {thread.channel}  marked solved by "
          f"{proposal.solved_by}")  # fmt: skip
    if proposal.url:
        print(f"    {proposal.url}")
    print(f"    Question: {_flat(proposal.question, width)}")
    print(f"    Answer ({answer_label(proposal)}): {_flat(proposal.answer, width)}")


def _flat(text: str, width: int) -> str:
    return clip(" ".join(text.split()), width)


def _ids(values: list[str], option: str) -> list[int]:
    bad = [v for v in values if not v.lstrip("#").isdigit()]
    if bad:
        raise ConfigError(f"{option} {bad[0]!r}: give proposal ids as `kb review --list` shows "
                          "them, e.g. 12")  # fmt: skip
    return [int(v.lstrip("#")) for v in values]


def _reviewer() -> str:
    """Who decided, as the proposal keeps it: the account running the command."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in this environment (a bare container)
        return "cli"
