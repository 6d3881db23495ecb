"""Progress of a long command on stderr: a spinner, the step it is on and the time so far.

Shown only on a terminal (rich leaves live displays out of pipes and files) and gone when the
command ends, so stdout stays the command's result."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextmanager
def steps(title: str, console: Console | None = None) -> Iterator[Callable[[str], None]]:
    """`with steps("router train") as step: step("reading data"); ...`"""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield lambda step: None
        return
    progress = Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    task = progress.add_task(title, total=None)
    with progress:
        yield lambda step: progress.update(task, description=f"{title}: {step}")
