"""Routing files with experiments, and conversations through the real engine."""

from __future__ import annotations

from pathlib import Path

from adapters.cli.console import ConsoleReply
from adapters.composition import Switchboard
from bot.conversation.messages import Incoming, Outcome
from routing.config import DEFAULT_ROUTING_FILE


def routing_file(tmp_path: Path, experiments: str, name: str = "routing.toml") -> Path:
    path = tmp_path / name
    path.write_text(DEFAULT_ROUTING_FILE.read_text(encoding="utf-8") + "\n" + experiments)
    return path


AB_FIXED = """
[[experiments]]
name = "{name}"
target_threads = {target}
{extra}
variants = [
  {{name = "A", strategy = "fixed", model = "{model_a}"}},
  {{name = "B", strategy = "fixed", model = "{model_b}"}},
]
"""


def fixed_ab(
    name: str = "ab",
    model_a: str = "openai/gpt-4o",
    model_b: str = "openai/gpt-4o-mini",
    target: int = 10,
    extra: str = "",
) -> str:
    return AB_FIXED.format(name=name, model_a=model_a, model_b=model_b, target=target, extra=extra)


async def ask(app: Switchboard, thread: str, text: str, event: str, channel: str = "c1") -> Outcome:
    incoming = Incoming("console", "local", channel, thread, "u1", text, event)
    return await app.engine.handle(incoming, ConsoleReply(echo=False))
