"""The digest in each form: plain text, Slack Block Kit, a Discord embed, and the terminal.

Every form stays inside its platform's limits (Slack: header 150 chars, 50 blocks, section text
3,000, 10 fields of 2,000; Discord: description 4,096, 25 fields of 1,024, 6,000 in all).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from bot.conversation.ports import Notice
from bot.notices import clip
from bot.spend.digest import DigestData
from bot.spend.summary import format_usd
from storage.ledger import Rollup

SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
SLACK_BLOCKS_MAX = 50
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_FIELD_VALUE_MAX = 1024
DISCORD_FIELDS_MAX = 25
DISCORD_TOTAL_MAX = 6000
DIGEST_COLOUR = 0x3C78B5


def title(d: DigestData) -> str:
    return f"Switchboard spend for {d.day:%a %d %b %Y}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.0f}%"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def headline(d: DigestData) -> list[tuple[str, str]]:
    """(label, value) pairs: the fields every form shows."""
    t = d.totals
    avg = d.average_nano_usd
    budget = d.monthly_budget_nano_usd
    month = format_usd(d.month_to_date_nano_usd)
    if budget:
        month += f" of {format_usd(budget)} ({d.month_to_date_nano_usd * 100 / budget:.0f}%)"
    saved = format_usd(t.savings_nano_usd)
    if d.savings_percent is not None:
        saved += f" ({d.savings_percent:.0f}%)"
    return [
        ("Spend", format_usd(t.nano_usd)),
        ("Calls", f"{t.calls:,} ({'n/a' if avg is None else format_usd(avg)} per call)"),
        ("vs day before", f"{_pct(d.change_vs_previous)} ({format_usd(d.previous_day_nano_usd)})"),
        ("vs 7-day average", f"{_pct(d.change_vs_week)} ({format_usd(d.week_average_nano_usd)})"),
        (f"Baseline ({d.baseline_model})", format_usd(t.baseline_nano_usd)),
        ("Saved by routing", saved),
        ("Month to date", month),
        ("Errors", f"{t.errors:,}"),
        ("Latency p50 / p95", f"{_ms(d.p50_ms)} / {_ms(d.p95_ms)}"),
        (
            "Estimated or unpriced calls",
            f"{t.estimated_calls:,} estimated, {t.unpriced_calls:,} unpriced",
        ),
    ]


def breakdowns(d: DigestData) -> list[tuple[str, Sequence[Rollup]]]:
    return [
        ("By tier", d.by_tier[:5]),
        ("By model", d.by_model[:5]),
        ("By channel", d.by_channel[:5]),
        ("Top threads", d.top_threads),
    ]


def _label(group: Rollup) -> str:
    return group.key[0] or "(none)"


def table(groups: Sequence[Rollup], width: int = 34) -> str:
    lines = [
        f"{clip(_label(g), width):<{width}} {format_usd(g.nano_usd):>12} {g.calls:>7,}"
        for g in groups
    ]
    return "\n".join(lines) or "(no calls)"


def context_line(d: DigestData) -> str:
    return (
        f"Day in {d.zone} · savings = same tokens priced at {d.baseline_model} · "
        f"{d.flagged_calls} estimated/unpriced call(s) not fully counted"
    )


def text(d: DigestData) -> str:
    parts = [title(d), ""]
    parts += [f"{label}: {value}" for label, value in headline(d)]
    for name, groups in breakdowns(d):
        parts += ["", f"{name}:", table(groups)]
    if d.experiment_lines:
        parts += ["", "Experiments:", *d.experiment_lines]
    parts += ["", context_line(d)]
    return "\n".join(parts)


def slack_blocks(d: DigestData) -> tuple[dict[str, Any], ...]:
    def mrkdwn(value: str, limit: int) -> dict[str, Any]:
        return {"type": "mrkdwn", "text": clip(value, limit)}

    fields = [mrkdwn(f"*{label}*\n{value}", SLACK_FIELD_MAX) for label, value in headline(d)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title(d), SLACK_HEADER_MAX)}}
    ]
    for start in range(0, len(fields), SLACK_FIELDS_MAX):
        blocks.append({"type": "section", "fields": fields[start : start + SLACK_FIELDS_MAX]})
    for name, groups in breakdowns(d):
        body = f"*{name}*\n```{table(groups)}```"
        blocks.append({"type": "section", "text": mrkdwn(body, SLACK_SECTION_MAX)})
    if d.experiment_lines:
        body = "*Experiments*\n" + "\n".join(d.experiment_lines)
        blocks.append({"type": "section", "text": mrkdwn(body, SLACK_SECTION_MAX)})
    blocks.append({"type": "context", "elements": [mrkdwn(context_line(d), SLACK_FIELD_MAX)]})
    return tuple(blocks[:SLACK_BLOCKS_MAX])


def discord_embed(d: DigestData, chart_name: str | None = None) -> dict[str, Any]:
    fields = [
        {"name": clip(label, 256), "value": clip(value, DISCORD_FIELD_VALUE_MAX), "inline": True}
        for label, value in headline(d)
    ]
    for name, groups in breakdowns(d):
        value = clip(f"```{table(groups, width=26)}```", DISCORD_FIELD_VALUE_MAX - 3)
        if not value.endswith("```"):
            value += "```"
        fields.append({"name": name, "value": value, "inline": False})
    if d.experiment_lines:
        value = clip("\n".join(d.experiment_lines), DISCORD_FIELD_VALUE_MAX)
        fields.insert(len(headline(d)), {"name": "Experiments", "value": value, "inline": False})
    embed: dict[str, Any] = {
        "title": clip(title(d), DISCORD_TITLE_MAX),
        "description": clip(
            f"{format_usd(d.totals.nano_usd)} over {d.totals.calls:,} calls",
            DISCORD_DESCRIPTION_MAX,
        ),
        "color": DIGEST_COLOUR,
        "fields": fields[:DISCORD_FIELDS_MAX],
        "footer": {"text": clip(context_line(d), 2048)},
    }
    if chart_name:
        embed["image"] = {"url": f"attachment://{chart_name}"}
    while embed_size(embed) > DISCORD_TOTAL_MAX and embed["fields"]:
        embed["fields"].pop()  # the least important (the breakdowns) go first
    return embed


def embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts toward its 6,000 limit."""
    size = len(embed.get("title", "")) + len(embed.get("description", ""))
    size += len(embed.get("footer", {}).get("text", ""))
    return size + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))


def notice(d: DigestData, chart_png: bytes | None, chart_name: str = "spend.png") -> Notice:
    return Notice(
        text=text(d),
        slack_blocks=slack_blocks(d),
        discord_embed=discord_embed(d, chart_name if chart_png else None),
        chart_png=chart_png,
        chart_name=chart_name,
    )


def print_terminal(d: DigestData, console: Console) -> None:
    summary = Table(title=title(d), show_header=False)
    for label, value in headline(d):
        summary.add_row(label, value)
    console.print(summary)
    for name, groups in breakdowns(d):
        grid = Table(title=name)
        grid.add_column("item")
        grid.add_column("spend", justify="right")
        grid.add_column("calls", justify="right")
        grid.add_column("saved", justify="right")
        for g in groups:
            grid.add_row(
                _label(g), format_usd(g.nano_usd), f"{g.calls:,}", format_usd(g.savings_nano_usd)
            )
        console.print(grid)
    for line in d.experiment_lines:
        console.print(f"Experiment: {line}")
    console.print(context_line(d), style="dim")
