"""Reading folders and files for the knowledge base (`bot.knowledge.ingest.Reader`).

A folder is listed in full before any file is read, so a folder over the file limit is
refused whole rather than half-indexed. Hidden files and folders (`.git`) and dependency
folders are left out; symbolic links are followed, and a link that leads back into a folder
already being read is a loop, reported once and not followed. Each file that cannot be used is
one `Problem`; files of other types inside a folder are skipped quietly.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from bot.knowledge.config import SUFFIXES
from bot.knowledge.ingest import Problem, SourceFile

MAX_FILE_BYTES = 2_000_000
MAX_FILES = 5_000
_SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "site-packages"})


class FolderReader:
    def __init__(self, max_file_bytes: int = MAX_FILE_BYTES, max_files: int = MAX_FILES) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files

    def absolute(self, root: str) -> str:
        return os.path.abspath(os.path.expanduser(root))

    def read(self, root: str) -> Iterator[SourceFile | Problem]:
        absolute = self.absolute(root)
        try:
            status = os.stat(absolute)
        except OSError as error:
            yield Problem(root, _reason(error, "path"), whole=True)
            return
        if not os.path.isdir(absolute):
            if Path(absolute).suffix.lower() not in SUFFIXES:
                yield Problem(root, "not a Markdown, HTML or text file (.md, .mdx, .html, "
                              ".txt); skipped", whole=True)  # fmt: skip
                return
            yield self._file(absolute, os.path.basename(absolute), status.st_size)
            return
        listed, problems = self._list(absolute)
        if len(listed) > self.max_files:
            yield Problem(root, f"more than {self.max_files:,} documents in this folder "
                          "(KB_MAX_FILES); add the folder that holds the docs, or raise "
                          "KB_MAX_FILES", whole=True)  # fmt: skip
            return
        if not listed and not problems:
            yield Problem(root, "no Markdown, HTML or text files (.md, .mdx, .html, .txt) in "
                          "this folder", whole=True)  # fmt: skip
            return
        yield from problems
        for path, size in listed:
            yield self._file(path, Path(path).relative_to(absolute).as_posix(), size)

    def _list(self, root: str) -> tuple[list[tuple[str, int]], list[Problem]]:
        """Every document under `root` with its size (stops past the file limit)."""
        found: list[tuple[str, int]] = []
        problems: list[Problem] = []
        visiting: dict[tuple[int, int], str] = {}

        def walk(folder: str) -> None:
            try:
                status = os.stat(folder)
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as error:
                problems.append(Problem(folder, _reason(error, "folder")))
                return
            key = (status.st_dev, status.st_ino)
            if key in visiting:
                problems.append(Problem(folder, f"symlink loop: leads back to {visiting[key]}; "
                                        "not followed"))  # fmt: skip
                return
            visiting[key] = folder
            for entry in entries:
                if len(found) > self.max_files:
                    break
                if entry.name.startswith(".") or entry.name in _SKIPPED_FOLDERS:
                    continue
                path = os.path.join(folder, entry.name)
                try:
                    is_dir = entry.is_dir()  # follows links
                    size = entry.stat().st_size if not is_dir else 0
                except OSError as error:
                    problems.append(Problem(path, _reason(error, "link")))
                    continue
                if is_dir:
                    walk(path)
                elif Path(entry.name).suffix.lower() in SUFFIXES:
                    found.append((path, size))
            del visiting[key]

        walk(root)
        return found, problems

    def _file(self, path: str, name: str, size: int) -> SourceFile | Problem:
        too_big = Problem(path, f"over the size limit of {self.max_file_bytes:,} bytes "
                          "(KB_MAX_FILE_BYTES); skipped")  # fmt: skip
        if size > self.max_file_bytes:
            return too_big
        try:
            with open(path, "rb") as handle:
                raw = handle.read(self.max_file_bytes + 1)
        except OSError as error:
            return Problem(path, _reason(error, "file"))
        if len(raw) > self.max_file_bytes:  # grew since it was listed
            return too_big
        return SourceFile(path, name, raw)


def _reason(error: OSError, what: str) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop (the link points back to itself); not followed"
    if error.errno == errno.ENOENT:
        return "no such file or folder" if what == "path" else "broken link; skipped"
    if error.errno == errno.EACCES:
        return f"cannot read this {what}: permission denied; skipped"
    return f"cannot read this {what}: {error.strerror or error}; skipped"
