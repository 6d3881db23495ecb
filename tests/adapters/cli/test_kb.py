"""`switchboard kb` as a user runs it: add a docs folder, search it, sync it after edits, list
and remove; each bad input one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli.main import main
from storage.tables import utcnow
from tests.adapters.cli.environment import only_env
from tests.adapters.cli.test_chat import simulator_in_a_thread
from tests.conftest import SHARED_DATA, migrated_copy

VAT = """---
title: Billing
description: Invoices, VAT and refunds.
---

## Change your VAT ID {#vat}

Go to Settings > Billing and edit the VAT number printed on your invoices.
"""


@pytest.fixture(autouse=True)
def home_database(tmp_path: Path, sqlite_template: Path) -> Path:
    """The home's database (DATA_DIR/switchboard.db) already migrated: these tests are about
    `kb` on a deployment, not its first start (test_run and test_stop start on a new home)."""
    return migrated_copy(sqlite_template, tmp_path / "var" / "switchboard.db")


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small Hugo site's content folder; no Switchboard setting in the environment."""
    only_env(monkeypatch)
    root = tmp_path / "site"
    (root / "content" / "en" / "billing").mkdir(parents=True)
    (root / "content" / "en" / "billing" / "vat.md").write_text(VAT)
    (root / "content" / "en" / "_index.md").write_text("---\ntitle: Help\n---\nWelcome to Acme.")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, list[str]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def test_add_then_search_gives_passages_with_their_links(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "kb", "add", str(docs), "--url-base", "https://help.acme.test/")
    assert (code, err) == (0, [])
    assert out.startswith("2 added, 0 changed, 0 unchanged, 0 removed (2 passages indexed) in "
                          "collection 'default' in ")  # fmt: skip
    code, out, _ = run(capsys, "kb", "search", "how to change my vat number", "--json", "-k", "1")
    [passage] = json.loads(out)["passages"]
    assert passage["document"] == "Billing" and passage["section"] == "Billing › Change your VAT ID"
    assert passage["link"] == "https://help.acme.test/billing/vat/#vat"
    assert passage["path"] == "content/en/billing/vat.md" and passage["score"] > 0
    assert json.loads(out)["confidence"] > 0.6  # its title and heading hold the words
    code, out, _ = run(capsys, "kb", "search", "vat")
    assert code == 0 and out.startswith("1. Billing › Change your VAT ID  (score ")


def test_sync_follows_changed_new_and_deleted_files(
    docs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "kb", "add", str(docs))
    page = docs / "content" / "en"
    (page / "billing" / "vat.md").write_text(VAT.replace("VAT number", "tax number"))
    (page / "refunds.md").write_text("# Refunds\n\nWithin 30 days.")
    (page / "_index.md").unlink()
    code, out, err = run(capsys, "kb", "sync")
    assert (code, err) == (0, [])
    assert out.startswith("1 added, 1 changed, 0 unchanged, 1 removed (2 passages indexed) in ")
    assert run(capsys, "kb", "sync")[1].startswith("0 added, 0 changed, 2 unchanged, 0 removed")
    _, out, _ = run(capsys, "kb", "search", "tax number", "--json")
    assert "tax number" in json.loads(out)["passages"][0]["text"]


def test_each_bad_input_is_one_line_and_the_rest_is_indexed(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_MAX_FILE_BYTES", "500")
    page = docs / "content" / "en"
    (page / "logo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (page / "latin.md").write_bytes("Caf\xe9".encode("latin-1"))
    (page / "huge.md").write_text("# Huge\n\n" + "word " * 200)
    code, out, err = run(capsys, "kb", "add", str(docs), str(tmp_path / "missing"))
    assert code == 0 and "2 added" in out and "4 skipped" in out
    assert sorted(line.split(": ", 2)[2] for line in err) == [
        "a binary file, not text; skipped",
        "no such file or folder",
        "not UTF-8 text (byte 3 cannot be decoded); convert it to UTF-8",
        "over the size limit of 500 bytes (KB_MAX_FILE_BYTES); skipped",
    ]
    assert all(line.startswith("switchboard: ") for line in err)


def test_nothing_readable_is_exit_code_2_and_nothing_indexed(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder of more documents than KB_MAX_FILES (10,000 files, say) is refused whole."""
    monkeypatch.setenv("KB_MAX_FILES", "20")
    crowd = tmp_path / "crowd"
    crowd.mkdir()
    for n in range(25):
        (crowd / f"page{n}.md").write_text(f"# Page {n}")
    code, out, err = run(capsys, "kb", "add", str(crowd))
    assert code == 2 and err == [
        f"switchboard: {crowd}: more than 20 documents in this folder (KB_MAX_FILES); add the "
        "folder that holds the docs, or raise KB_MAX_FILES"
    ]
    assert "0 added" in out
    assert run(capsys, "kb", "list")[1].startswith("the knowledge base is empty")


def test_list_and_remove(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "kb", "add", str(docs), "--url-base", "https://help.acme.test/")
    run(capsys, "kb", "add", str(docs / "content" / "en" / "billing"), "--collection", "billing")
    code, out, _ = run(capsys, "kb", "list")
    assert out.splitlines()[0] == "billing: 1 documents, 1 passages"
    assert f"  {docs} -> https://help.acme.test/: 2 documents, synced " in out
    code, out, _ = run(capsys, "kb", "remove", str(docs))
    assert out == f"removed {docs} from 'default': 2 documents\n"
    code, out, _ = run(capsys, "kb", "remove", "--collection", "billing")
    assert out == "removed collection 'billing': 1 documents\n"
    code, _, err = run(capsys, "kb", "remove", str(docs))
    assert code == 2 and err == [f"switchboard: {docs}: not in the knowledge base (see "
                                 "`switchboard kb list`)"]  # fmt: skip


@pytest.mark.skipif(not (SHARED_DATA / "kb" / "mastodon-docs").is_dir(), reason="no shared data")
def test_the_mastodon_help_centre_answers_with_the_right_page_cited(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's "done when": `kb add` the docs, then `ask` answers citing the page."""
    docs = SHARED_DATA / "kb" / "mastodon-docs"
    question = "how do I move my followers to a new account?"
    with simulator_in_a_thread() as base_url:
        only_env(monkeypatch, LLM_API_KEY="k", LLM_BASE_URL=base_url)
        code, out, err = run(capsys, "kb", "add", str(docs), "--url-base",
                             "https://docs.joinmastodon.org/")  # fmt: skip
        assert (code, err) == (0, []) and out.startswith("194 added")
        _, out, _ = run(capsys, "kb", "search", question, "--json")
        best = json.loads(out)["passages"][0]
        assert best["link"].startswith("https://docs.joinmastodon.org/user/moving/#")
        code, out, _ = run(capsys, "ask", question, "--json")
        answer = json.loads(out)
        assert (code, answer["status"]) == (0, "answered")
        assert answer["sources"][0]["link"].startswith("https://docs.joinmastodon.org/user/moving/")
        code, out, _ = run(capsys, "ask", question)  # in the terminal: plain lines
        assert "\nSources:\n  Moving or leaving accounts › " in out


def test_kb_add_with_an_embedding_model_embeds_through_the_ledger(
    docs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """KB_EMBEDDING_MODEL as the README and .env.example give it: `kb add` embeds each passage
    through the simulator's `/embeddings`, and `report` shows the requests with their cost."""
    with simulator_in_a_thread() as base_url:
        only_env(monkeypatch, LLM_API_KEY="k", LLM_BASE_URL=base_url,
                 KB_EMBEDDING_MODEL="openai/text-embedding-3-small")  # fmt: skip
        code, out, err = run(capsys, "kb", "add", str(docs))
        assert (code, err) == (0, [])
        assert out.startswith("2 passages embedded in 1 request(s), $0.0000")
        code, out, _ = run(capsys, "kb", "add", str(docs))  # nothing new: nothing embedded
        assert out.startswith("0 passages embedded in 0 request(s)")
        code, out, _ = run(capsys, "kb", "search", "vat number", "--json")
        assert json.loads(out)["passages"][0]["section"] == "Billing › Change your VAT ID"
        today = f"{utcnow():%Y-%m-%d}"
        code, out, _ = run(capsys, "report", "--since", today, "--format", "json")
        embeddings = [r for r in json.loads(out) if r["purpose"] == "embedding"]
        assert len(embeddings) == 2 and all(r["cost_nano_usd"] > 0 for r in embeddings)
