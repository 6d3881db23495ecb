"""`switchboard chat` as a person uses it: Ctrl-C while an answer streams cancels that answer
and the session goes on; Ctrl-C at the prompt drops the line; Ctrl-D quits. Answers wrap at
word boundaries in a terminal. (Line editing and history come from readline in a terminal.)"""

from __future__ import annotations

import asyncio
import builtins
import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from adapters.cli.console import WordWrap
from adapters.cli.main import main
from adapters.llm.simulator import LLMSimulator
from tests.adapters.cli.environment import only_env


@contextmanager
def simulator_in_a_thread() -> Iterator[str]:
    """The LLM simulator on its own loop: `chat` needs the main thread (Ctrl-C goes there)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    simulator = LLMSimulator(speed=0)
    try:
        yield asyncio.run_coroutine_threadsafe(simulator.start(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(simulator.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class Terminal(io.StringIO):
    """stdout that presses Ctrl-C (a real SIGINT) when the first answer's first words arrive."""

    def __init__(self) -> None:
        super().__init__()
        self.pressed = False

    def write(self, text: str) -> int:
        written = super().write(text)
        if not self.pressed and self.getvalue().count("bot> ") == 1 and text != "bot> ":
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)
        return written

    def isatty(self) -> bool:
        return True


def typed(*keys: str | type[BaseException]) -> Callable[[str], str]:
    """`input()` as a person at the keyboard: each call returns a line or raises a key."""
    left = list(keys)

    def read(prompt: str = "") -> str:
        key = left.pop(0)
        if isinstance(key, type):
            raise key()
        return key

    return read


def test_ctrl_c_cancels_the_answer_and_keeps_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    read = typed(
        "How do I reset my password?",  # Ctrl-C as it streams
        KeyboardInterrupt,  # Ctrl-C at the prompt
        "And where are my invoices?",
        EOFError,  # Ctrl-D
    )
    monkeypatch.setattr(builtins, "input", read)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr("shutil.get_terminal_size", lambda: os.terminal_size((60, 24)))
    with simulator_in_a_thread() as base_url:
        only_env(monkeypatch, LLM_API_KEY="k", LLM_BASE_URL=base_url, ROUTING_STRATEGY="fixed",
                 FIXED_MODEL="mistral/mistral-small-latest")  # fmt: skip
        assert main(["chat", "--thread", "t1"]) == 0
    shown = terminal.getvalue()
    first, second = shown.split("bot> ")[1:]
    assert "[cancelled]" in first and "mistral-small-latest" not in first  # no context line
    assert "[cancelled]" not in second and "mistral-small-latest" in second
    answer = second.split("\n     [")[0]
    assert answer.startswith("[simulated]")
    assert all(len(line) <= 60 for line in answer.splitlines()[1:])
    assert len(answer.splitlines()[0]) <= 60 - len("bot> ")


@pytest.mark.parametrize(
    ("chunks", "expected"),
    [
        (["one two three four"], "one two\nthree four"),
        (["one tw", "o thr", "ee four"], "one two\nthree four"),
        (["abcdefghijklmnop qr"], "abcdefghij\nklmnop qr"),
        (["first line\nsecond one here"], "first line\nsecond one\nhere"),
    ],
)
def test_word_wrap_breaks_at_spaces_even_when_words_arrive_in_pieces(
    chunks: list[str], expected: str
) -> None:
    wrap = WordWrap(10)
    text = "".join(wrap.feed(chunk) for chunk in chunks) + wrap.flush()
    assert text.replace(" \n", "\n") == expected
