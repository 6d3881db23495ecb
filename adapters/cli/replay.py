"""Historical questions played as live traffic: through the engine (real provider calls, shadow
comparisons and judging as configured), or routing only, priced from estimated tokens.

Each input line is `{"id": ..., "text": ..., "thread"?: ..., "channel"?: ...}`; each output
line is one JSON object per question. A question's event id is `replay:<id>`, so a replay that
was interrupted can be run again: questions already answered come back as "duplicate" and are
not asked (nor charged) twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from adapters.cli.console import ConsoleReply
from adapters.composition import Switchboard
from bot.conversation.messages import Incoming
from bot.errors import ConfigError
from bot.llm.pricing import Pricer, estimate_tokens
from bot.llm.types import Usage
from routing.strategy import RouteRequest, Strategy

PLATFORM = "replay"


@dataclass(frozen=True)
class Line:
    id: str
    text: str
    thread: str
    channel: str


def read_lines(path: Path) -> Iterator[Line | str]:
    """Each line as a `Line`, or the error text for a line that is not one."""
    if not path.is_file():
        raise ConfigError(f"replay: no such file {path} (give a JSONL file of questions)")
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except json.JSONDecodeError:
                yield f"line {number}: not JSON"
                continue
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                yield f'line {number}: needs a "text" string'
                continue
            ident = str(item.get("id", number))
            thread = str(item.get("thread") or f"replay-{ident}")
            yield Line(ident, item["text"], thread, str(item.get("channel") or "replay"))


def incoming(line: Line, workspace: str) -> Incoming:
    return Incoming(PLATFORM, workspace, line.channel, line.thread, "replay", line.text,
                    f"replay:{line.id}")  # fmt: skip


async def answer(switchboard: Switchboard, line: Line, workspace: str) -> dict[str, Any]:
    outcome = await switchboard.engine.handle(incoming(line, workspace), ConsoleReply(echo=False))
    meta = outcome.meta
    result: dict[str, Any] = {"id": line.id, "status": outcome.status}
    if meta is not None:
        result |= {
            "call_id": meta.call_id,
            "tier": meta.tier,
            "model": meta.model,
            "strategy": meta.strategy,
            "score": meta.score,
            "router_version": meta.router_version,
            "cost_usd": meta.cost_usd,
            "cost_source": meta.cost_source,
        }
    elif outcome.message:
        result["error"] = outcome.message
    return result


def route_only(
    strategy: Strategy, pricer: Pricer, line: Line, prompt_tokens: int, output_tokens: int
) -> dict[str, Any]:
    """The routing decision, priced at the chosen model's list price for estimated tokens."""
    decision = strategy.decide(RouteRequest(text=line.text))
    usage = Usage(prompt_tokens + estimate_tokens(line.text), output_tokens)
    nano = pricer.price(decision.models[0], usage)
    return {
        "id": line.id,
        "status": "routed",
        "tier": decision.tier,
        "model": decision.models[0],
        "strategy": decision.strategy,
        "score": None if decision.score is None else round(decision.score, 4),
        "router_version": decision.router_version,
        "estimated_cost_usd": None if nano is None else nano / 1e9,
        "estimated_tokens": {"input": usage.input_tokens, "output": usage.output_tokens},
    }


def write(out: TextIO, result: dict[str, Any]) -> None:
    out.write(json.dumps(result, ensure_ascii=False) + "\n")
    out.flush()
