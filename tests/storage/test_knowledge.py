"""The knowledge base on SQLite and PostgreSQL: the same documents, the same questions, the same
answers from both back ends' full-text search."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.knowledge.ingest import Ingest
from bot.knowledge.parsing import parse_page
from bot.knowledge.ranking import Ranking
from bot.knowledge.retrieval import KnowledgeBase, Options
from storage.conversations import Conversations
from storage.knowledge import KnowledgeStore
from storage.knowledge_search import lookup, per_collection
from storage.records import ThreadRef
from tests.conftest import Database

CONTACT = "## Contact support\n\nWrite to help@acme.test; we answer within a day.\n"
BILLING = f"""# Billing

## Change your VAT ID

Go to Settings > Billing and edit the VAT number printed on your invoices. Invoices issued
before the change keep the old number.

## Refunds

Annual plans are refunded pro rata within 30 days of the renewal.

{CONTACT}"""
SIGN_IN = f"""# Signing in

## Forgot your password

Use the reset link on the sign-in page; it expires after an hour. Two-factor codes still apply.

{CONTACT}"""
SSO = """# Single sign-on

Enterprise plans include SAML single sign-on with Okta, Azure AD and Google Workspace.
"""


class Kit:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self.ingest = Ingest(store, reader=None)  # type: ignore[arg-type]  # no folders here
        self.kb = KnowledgeBase(store)


@pytest.fixture
async def kit(database: Database) -> AsyncIterator[Kit]:
    store = KnowledgeStore(database.engine())
    kit = Kit(store)
    for path, text in (("billing.md", BILLING), ("sign-in.md", SIGN_IN), ("sso.md", SSO)):
        url = f"https://help.acme.test/{path[:-3]}/"
        assert await kit.ingest.put_text("default", path, text, url=url) == "added"
    yield kit
    await store.close()
    await store.db.dispose()


async def test_a_question_finds_its_passage_with_heading_path_and_link(kit: Kit) -> None:
    found = await kit.kb.search("how do I change the VAT number on my invoices?", k=3)
    best = found.passages[0]
    assert best.section == "Billing › Change your VAT ID"
    assert best.url == "https://help.acme.test/billing/#change-your-vat-id"
    assert "edit the VAT number" in best.text
    assert found.confidence > 0.8


async def test_misspellings_and_synonyms_still_find_the_page(kit: Kit) -> None:
    misspelled = await kit.kb.search("i forgt my pasword")
    assert misspelled.passages[0].section == "Signing in › Forgot your password"
    assert "password" in misspelled.words  # corrected against the documents' own words
    synonym = await kit.kb.search("cant log in, need to reset my passphrase")
    assert synonym.passages[0].section == "Signing in › Forgot your password"


async def test_query_syntax_in_a_question_is_just_text(kit: Kit) -> None:
    for question in ('AND OR NOT "unclosed (paren * NEAR(x y) title:vat -refunds ^', "''", "*"):
        await kit.kb.search(question)  # no syntax error from FTS5 or tsquery


async def test_the_same_text_on_two_pages_is_shown_once(kit: Kit) -> None:
    found = await kit.kb.search("contact support by email")
    texts = [p.text for p in found.passages]
    assert texts.count(texts[0]) == 1 and "help@acme.test" in texts[0]


async def test_collections_keep_their_documents_apart(kit: Kit) -> None:
    await kit.ingest.put_text("internal", "oncall.md", "# On-call\n\nPage the VAT team lead.")
    assert {p.collection for p in (await kit.kb.search("VAT")).passages} == {"default", "internal"}
    only = await kit.kb.search("VAT", ["default"])
    assert {p.collection for p in only.passages} == {"default"}
    assert (await kit.kb.search("VAT", [])).passages == ()


async def test_documents_are_counted_per_collection(kit: Kit) -> None:
    await kit.ingest.put_text("internal", "oncall.md", "# On-call\n\nPage the VAT team lead.")
    every = await kit.store.run(lambda conn: per_collection(conn))
    default = await kit.store.run(lambda conn: per_collection(conn, ["default"]))
    internal = await kit.store.run(lambda conn: per_collection(conn, ("internal",)))
    both = await kit.store.run(lambda conn: per_collection(conn, ["default", "internal", "none"]))
    assert default == {"default": 3} and internal == {"internal": 1} and both == every
    assert every == {"default": 3, "internal": 1}  # a collection with no documents is absent
    assert await kit.store.run(lambda conn: per_collection(conn, [])) == {}


async def test_a_question_the_documents_do_not_cover_has_low_confidence(kit: Kit) -> None:
    covered = await kit.kb.search("refund of an annual plan")
    uncovered = await kit.kb.search("what is the weather forecast in paris")
    assert covered.confidence > 0.6 > 0.3 > uncovered.confidence


async def test_a_changed_document_replaces_the_old_one_whole(kit: Kit) -> None:
    url = "https://help.acme.test/sso/"
    assert await kit.ingest.put_text("default", "sso.md", SSO, url=url) == "unchanged"
    new = SSO.replace("Okta, Azure AD and Google Workspace", "OneLogin")
    assert await kit.ingest.put_text("default", "sso.md", new, url=url) == "changed"
    assert "OneLogin" in (await kit.kb.search("single sign-on provider")).passages[0].text
    assert not (await kit.kb.search("okta")).passages
    # The words of the old version are no longer offered as spelling corrections.
    found = await kit.store.run(lambda conn: lookup(conn, ["oktaa", "onelogn"]))
    assert not any(term == "okta" for term, _ in found.candidates["oktaa"])
    assert "onelogin" in [term for term, _ in found.candidates["onelogn"]]


async def test_a_failed_replacement_leaves_the_old_version(kit: Kit) -> None:
    page = parse_page("# Single sign-on\n\nNow with OneLogin.", path="sso.md", name="sso.md")
    with pytest.raises(sa.exc.IntegrityError):
        await kit.store.put("default", page, source_id=12345)  # no such source: fails mid-way
    assert "Okta" in (await kit.kb.search("okta single sign-on")).passages[0].text


async def test_removing_documents_drops_their_passages_and_words(kit: Kit) -> None:
    [sso] = [d for d in await kit.store.documents("default") if d.path == "sso.md"]
    assert await kit.store.remove([sso.id]) == 1
    assert not (await kit.kb.search("okta")).passages
    assert (await kit.store.run(lambda conn: lookup(conn, ["okta"]))).known == {}
    assert await _postings(kit, "okta") == 0


async def _postings(kit: Kit, term: str | None = None) -> int:
    where = "" if term is None else " WHERE term = :term"
    sql = sa.text(f"SELECT count(*) FROM kb_postings{where}")
    return int(await kit.store.run(lambda conn: conn.scalar(sql, {"term": term})))


async def test_each_passage_has_a_posting_per_word_with_title_and_headings_weighing_more(
    kit: Kit,
) -> None:
    before = await _postings(kit)
    await kit.ingest.put_text("default", "renew.md", "# Renewal\n\n## Dates\n\nRenewal dates.")
    rows = await kit.store.run(lambda conn: conn.execute(sa.text(
        "SELECT k.term, k.weight FROM kb_postings k JOIN kb_passages p ON p.id = k.passage_id "
        "JOIN kb_documents d ON d.id = p.document_id WHERE d.path = 'renew.md'"
    )).all())  # fmt: skip
    weights = dict(rows)
    assert set(weights) == {"renew", "date"}  # stems, once each
    assert weights["renew"] > weights["date"]  # title and body beat heading and body
    assert await _postings(kit) == before + 2
    await kit.ingest.put_text("default", "renew.md", "# Renewal\n\nNone.")  # replaced
    assert await _postings(kit) == before + 2  # "renew", "none": the old ones went


async def test_only_the_passages_that_use_a_word_most_are_read_for_it(kit: Kit) -> None:
    """A search reads `depth` postings per term: the passages with the word in the title or
    a heading, or most often in the body, whatever their order in the database."""
    for n in range(6):
        await kit.ingest.put_text("default", f"n{n}.md", f"# Page {n}\n\nQuotas of team {n}.")
    await kit.ingest.put_text("default", "q.md", "# Quotas\n\nQuotas per plan: quotas.")
    shallow = KnowledgeBase(kit.store, Options(depth=1))
    assert [p.document for p in (await shallow.search("quotas")).passages] == ["Quotas"]
    assert len((await kit.kb.search("quotas", k=10)).passages) == 7


async def test_a_small_collection_beside_a_large_one_reads_its_own_best_postings(
    kit: Kit,
) -> None:
    for n in range(4):
        await kit.ingest.put_text("default", f"vat{n}.md", f"# VAT {n}\n\nThe VAT, VAT ID.")
    await kit.ingest.put_text("internal", "oncall.md", "# On-call\n\nPage the VAT team lead.")
    shallow = KnowledgeBase(kit.store, Options(depth=2))
    [found] = (await shallow.search("VAT", ["internal"])).passages
    assert found.document == "On-call"


async def test_a_question_during_a_sync_sees_a_page_whole(database: Database) -> None:
    """Another process replaces a page again and again (`kb sync` from cron) while questions
    are asked: every answer holds the old passages or the new ones, never a mix."""
    writer, reader = KnowledgeStore(database.engine()), KnowledgeStore(database.engine())
    versions = [
        "\n\n".join(f"## Part {i}\n\nThe {word} plan covers part {i}. " + "Filler. " * 60
                    for i in range(4))
        for word in ("red", "blue")
    ]  # fmt: skip
    ingest = Ingest(writer, reader=None)  # type: ignore[arg-type]
    kb = KnowledgeBase(reader, Options(ranking=Ranking(per_page=99)))  # every passage
    await ingest.put_text("default", "plans.md", versions[0])
    done = asyncio.Event()

    async def write() -> None:
        for n in range(30):
            await ingest.put_text("default", "plans.md", versions[(n + 1) % 2])
        done.set()

    mixes = 0
    task = asyncio.create_task(write())
    while not done.is_set():
        found = await kb.search("plan covers part", k=8)
        colours = {("red" in p.text, "blue" in p.text) for p in found.passages}
        mixes += len(colours) > 1 or not found.passages
    await task
    assert mixes == 0
    for store in (writer, reader):
        await store.close()
        await store.db.dispose()


async def _analyses(store: KnowledgeStore) -> int:
    return int(await store.run(lambda conn: conn.scalar(
        sa.text("SELECT pg_stat_get_analyze_count('kb_terms'::regclass)")
    )))  # fmt: skip


async def test_kb_add_leaves_postgres_planning_with_fresh_statistics(
    database: Database, tmp_path: Path
) -> None:
    """A search right after `kb add` is planned on the new words' statistics, not on an empty
    table's (the spelling look-up then scanned every word: 40-90 ms at 45,000 words)."""
    if database.kind != "postgres":
        pytest.skip("SQLite plans these statements by their indexes alone")
    from adapters.knowledge.folders import FolderReader

    (tmp_path / "billing.md").write_text(BILLING)
    store = KnowledgeStore(database.engine())
    try:
        before = await _analyses(store)
        report = await Ingest(store, FolderReader()).add([str(tmp_path)], "default", None)
        assert report.added == 1
        assert await _analyses(store) == before + 1
        again = await Ingest(store, FolderReader()).sync()
        assert again.unchanged == 1 and await _analyses(store) == before + 1  # nothing changed
        found = await KnowledgeBase(store).search("how do I chnage my VAT number?")
        assert found.passages[0].section == "Billing › Change your VAT ID"
    finally:
        await store.close()
        await store.db.dispose()


async def test_a_question_is_stored_with_its_channels_documents_counted(kit: Kit) -> None:
    """The question's own transaction says whether there is anything to search (the engine
    then skips the search for a channel whose collections are empty)."""
    conversations = Conversations(kit.store.db)
    try:
        ref = ThreadRef("slack", "T1", "C1", "1.1")
        new_thread = await conversations.start_turn(ref, text="q1", author="U1", event_key="e1",
                                                    collections=("default", "solved"))  # fmt: skip
        empty = await conversations.start_turn(ref, text="q2", author="U1", event_key="e2",
                                               collections=("internal",))  # fmt: skip
        uncounted = await conversations.start_turn(ref, text="q3", author="U1", event_key="e3")
        assert new_thread is not None and empty is not None and uncounted is not None
        assert (new_thread.documents, empty.documents, uncounted.documents) == (3, 0, None)
        await kit.ingest.put_text("internal", "oncall.md", "# On-call\n\nPage the VAT team lead.")
        again = await conversations.reload_turn(empty, 10, ("internal", "default"))
        assert again.documents == 4 and [t.text for t in again.history] == ["q1"]
        assert (await conversations.reload_turn(empty, 0)).documents is None
    finally:
        await conversations.close()
