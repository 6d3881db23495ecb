"""A bad LLM_EXTRA_HEADERS / LLM_EXTRA_QUERY stops a command in one line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cli.main import main


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("LLM_EXTRA_HEADERS", "X Title: Switchboard", "'X Title' is not a valid header name"),
        ("LLM_EXTRA_HEADERS", "api-key sk-live-a1b2c3d4e5f6", "has no ':'"),
        ("LLM_EXTRA_QUERY", "api-version", "api-version=2024-10-21"),
    ],
)
def test_bad_extra_settings_are_one_line_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    value: str,
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    assert main(["route", "How do I reset my password?"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert name in line and words in line
    assert "sk-live" not in captured.err + captured.out
