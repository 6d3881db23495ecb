"""The knowledge base's confidence, on SQLite and PostgreSQL: a question whose words a page only
mentions in passing scores below the shipped threshold, one a page is about scores above it in
other words than the page's, and on the labelled question sets' dev halves the trade-off
(unanswerable questions caught, answerable ones wrongly refused) stays what was measured
(docs/knowledge.md, "Quality")."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.knowledge.folders import FolderReader
from bot.knowledge.config import KnowledgeConfig
from bot.knowledge.ingest import Ingest
from bot.knowledge.ranking import Ranking
from bot.knowledge.retrieval import KnowledgeBase, Options
from storage.knowledge import KnowledgeStore
from tests.conftest import SHARED_DATA, Database

THRESHOLD = KnowledgeConfig().min_confidence
MASTODON = SHARED_DATA / "kb" / "mastodon-docs"
QUESTIONS = Path(__file__).resolve().parents[3] / "bench" / "data"
PAGES = {
    "billing.md": """# Billing

## Change your plan

Go to Settings > Billing to move to another plan. The new price applies from the next invoice,
and unused days of the old plan are credited to your account.
""",
    "exports.md": """# Exports

## Export your data

Settings > Export prepares an archive of your posts, media and lists. You can ask for one
archive a week; a weekly reminder is sent when the last one is older than a month.
""",
    "profile.md": """# Setting up your profile

## Display name

Your display name is shown to other users before your address. You can set a display name
up to 30 characters by default.

## Bio

Your bio is a short description of yourself shown on your profile to your followers and
visitors, up to 500 characters.
""",
    "webhooks.md": """# Webhooks

## Receiving webhooks

The server will send a POST request to the URL you registered for each event you chose,
signed with the secret shown when the webhook was created.
""",
    "roles.md": """# Roles

## Default roles

Moderators review reports and suspend accounts; administrators also manage the server's
settings and rules. A role can be shown as a badge on its holders' profiles.
""",
    "search.md": """# Search

## Full-text search

Logged-in users can search the posts they wrote, favourited or bookmarked, and the posts
that mention them. Operators such as from:me narrow the results.
""",
}


@pytest.fixture
async def kb(database: Database) -> AsyncIterator[KnowledgeBase]:
    store = KnowledgeStore(database.engine())
    ingest = Ingest(store, reader=None)  # type: ignore[arg-type]  # no folders here
    for path, text in PAGES.items():
        await ingest.put_text("default", path, text, url=f"https://help.acme.test/{path[:-3]}/")
    yield KnowledgeBase(store)
    await store.close()
    await store.db.dispose()


async def test_words_scattered_across_unrelated_passages_are_below_the_threshold(
    kb: KnowledgeBase,
) -> None:
    """ "send", "weekly" and "followers" are each in a different page, "newsletter" in none."""
    found = await kb.search("send a weekly newsletter to my followers")
    assert found.passages  # something matched, but not the question
    assert found.confidence < THRESHOLD


async def test_a_paraphrased_question_a_page_is_about_is_above_it(kb: KnowledgeBase) -> None:
    found = await kb.search("how many characters can my display name have??")
    assert found.passages[0].section == "Setting up your profile › Display name"
    assert found.confidence >= THRESHOLD
    chatty = await kb.search("hey, can i get an archive of all my posts pls")
    assert chatty.passages[0].section == "Exports › Export your data"
    assert chatty.confidence >= THRESHOLD


async def test_words_in_a_heading_weigh_more_than_words_in_passing(kb: KnowledgeBase) -> None:
    """Both questions' words are all in one passage: the confidence before (the share of the
    words found) gave both 1.0. A heading naming them is the page's subject; the same words
    once each in a paragraph about something else are half as strong."""
    about = await kb.search("display name")
    passing = await kb.search("moderators rules")
    assert about.passages[0].section == "Setting up your profile › Display name"
    assert passing.passages[0].section == "Roles › Default roles"
    assert about.confidence == 1.0 and passing.confidence == pytest.approx(0.5)
    coverage = KnowledgeBase(kb.store, replace(Options(), ranking=Ranking(confidence="coverage")))
    assert (await coverage.search("display name")).confidence == 1.0
    assert (await coverage.search("moderators rules")).confidence == 1.0


def _dev(name: str) -> list[tuple[str, bool]]:
    """The dev half of a labelled set: (question, whether the docs answer it)."""
    rows = [json.loads(line) for line in (QUESTIONS / name).read_text().splitlines() if line]
    return [(r["question"], bool(r["needs"])) for r in rows if r["split"] == "dev"]


@pytest.mark.skipif(not MASTODON.is_dir(), reason="no shared data")
async def test_the_labelled_sets_dev_halves_keep_the_measured_trade_off(
    database: Database,
) -> None:
    """Measured on 2026-12-05 at the shipped threshold (bench/bench_kb_quality.py), the same
    on both databases: set A's dev half catches 4 of 12 unanswerable questions and wrongly
    refuses 0 of 53, set B's 4 of 12 and 0 of 55; AUC 0.86 and 0.82 (coverage, the confidence
    before: 0.85 and 0.74). A margin of one question, and 0.03 of AUC."""
    store = KnowledgeStore(database.engine())
    try:
        report = await Ingest(store, FolderReader()).add([str(MASTODON)], "default", None)
        assert not report.problems
        kb = KnowledgeBase(store)
        for name, least_caught, most_refused, least_auc in (
            ("kb_questions.jsonl", 3, 1, 0.83),
            ("kb_questions_b.jsonl", 3, 1, 0.79),
        ):
            scored = [(answerable, (await kb.search(q)).confidence) for q, answerable in _dev(name)]
            caught = sum(c < THRESHOLD for a, c in scored if not a)
            refused = sum(c < THRESHOLD for a, c in scored if a)
            assert caught >= least_caught and refused <= most_refused, (name, caught, refused)
            assert _auc(scored) >= least_auc, (name, _auc(scored))
    finally:
        await store.close()
        await store.db.dispose()


def _auc(scored: list[tuple[bool, float]]) -> float:
    """The chance that an answerable question scores above an unanswerable one."""
    yes = [c for a, c in scored if a]
    no = [c for a, c in scored if not a]
    return sum((y > n) + 0.5 * (y == n) for y in yes for n in no) / (len(yes) * len(no))
