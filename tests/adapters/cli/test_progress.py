"""Long commands show the step they are on, on a terminal's stderr, and nothing in a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.cli.progress import steps


def test_a_terminal_sees_each_step_and_a_pipe_sees_nothing() -> None:
    terminal = io.StringIO()
    with steps("router train", Console(file=terminal, force_terminal=True, width=100)) as step:
        step("reading data")
        step("fitting on 120 prompts")
    shown = terminal.getvalue()
    assert "router train: fitting on 120 prompts" in shown
    pipe = io.StringIO()
    with steps("router train", Console(file=pipe, force_terminal=False)) as step:
        step("fitting on 120 prompts")
    assert pipe.getvalue() == ""
