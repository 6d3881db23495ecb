"""Reading folders for the knowledge base: every bad input is one problem naming the file, and
a folder that cannot be read whole is refused whole."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from adapters.knowledge.folders import FolderReader
from bot.knowledge.ingest import Problem, SourceFile


def read(root: Path | str, **limits: int) -> tuple[list[SourceFile], list[Problem]]:
    items = list(FolderReader(**limits).read(str(root)))
    return (
        [i for i in items if isinstance(i, SourceFile)],
        [i for i in items if isinstance(i, Problem)],
    )


def test_a_folder_is_read_recursively_leaving_out_hidden_and_other_files(tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "start.md").write_text("# Start")
    (tmp_path / "faq.html").write_text("<h1>FAQ</h1>")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.md").write_text("ref")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "README.md").write_text("dependency")
    files, problems = read(tmp_path)
    assert [f.name for f in files] == ["faq.html", "guide/start.md", "notes.txt"]
    assert files[1].path == str(tmp_path / "guide" / "start.md") and files[1].raw == b"# Start"
    assert problems == []


def test_every_bad_input_is_one_problem(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("# Fine")
    (tmp_path / "big.md").write_text("x" * 2_000)
    (tmp_path / "dangling.md").symlink_to(tmp_path / "gone.md")
    (tmp_path / "self.md").symlink_to(tmp_path / "self.md")  # a link to itself
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "page.md").write_text("# In the loop")
    (tmp_path / "loop" / "back").symlink_to(tmp_path)  # a folder linking to its parent
    with socket.socket(socket.AF_UNIX) as server:  # a file name that cannot be opened
        server.bind(str(tmp_path / "socket.md"))
        files, problems = read(tmp_path, max_file_bytes=1_000)
    assert sorted(f.name for f in files) == ["loop/page.md", "ok.md"]
    said = {Path(p.path).name: p.reason for p in problems}
    assert said["big.md"] == "over the size limit of 1,000 bytes (KB_MAX_FILE_BYTES); skipped"
    assert said["dangling.md"] == "broken link; skipped"
    assert said["self.md"].startswith("symlink loop")
    assert said["back"] == f"symlink loop: leads back to {tmp_path}; not followed"
    assert said["socket.md"].startswith("cannot read this file:")
    assert len(problems) == 5 and not any(p.whole for p in problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("# Secret")
    secret.chmod(0)
    _, problems = read(tmp_path)
    assert [p.reason for p in problems] == ["cannot read this file: permission denied; skipped"]


def test_a_root_that_cannot_be_read_whole_is_refused_whole(tmp_path: Path) -> None:
    for n in range(6):
        (tmp_path / f"page{n}.md").write_text(f"# Page {n}")
    files, problems = read(tmp_path, max_files=5)
    assert files == [] and [p.whole for p in problems] == [True]
    assert problems[0].reason.startswith("more than 5 documents in this folder (KB_MAX_FILES)")
    _, [missing] = read(tmp_path / "nope")
    assert (missing.reason, missing.whole) == ("no such file or folder", True)
    (tmp_path / "empty").mkdir()
    _, [empty] = read(tmp_path / "empty")
    assert empty.reason.startswith("no Markdown, HTML or text files")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    _, [picture] = read(tmp_path / "logo.png")
    assert picture.reason.startswith("not a Markdown, HTML or text file")


def test_a_single_file_is_read_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "faq.md").write_text("# FAQ")
    [file], [] = read(tmp_path / "faq.md")
    assert (file.name, file.raw) == ("faq.md", b"# FAQ")
