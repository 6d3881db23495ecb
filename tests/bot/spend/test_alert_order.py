"""Budget alerts from several replicas on one database come out in order (issue 13: "alerts in
order"): only a threshold above the last one announced is posted, several crossed at once give
one alert naming the others, never a lower one after a higher one, each at most once."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from bot.notices import Notice
from tests.conftest import Database, MakeApp
from tests.fakes import FakeProvider, Scripted

THRESHOLDS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)


@dataclass
class SlowNotifier:
    """Records notices in the order they arrive, taking a while to post each (like Slack)."""

    notices: list[Notice] = field(default_factory=list)

    async def notify(self, notice: Notice) -> None:
        await asyncio.sleep(0.01)
        self.notices.append(notice)


def ask(replica: int, n: int) -> Incoming:
    return Incoming("console", "local", "c1", f"t{replica}-{n}", "u1", f"Q{n}?", f"e{replica}-{n}")


async def test_three_replicas_post_thresholds_only_upwards(
    database: Database, make_app: MakeApp, provider: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    # Each call costs 7% of the $1 budget: 18 calls from 3 replicas at once cross all ten
    # thresholds, often two at a time, in whatever order the replicas' calls land.
    provider.enqueue(Scripted(cost_usd=Decimal("0.07"), delay_s=0.001, repeat=100))
    notifier = SlowNotifier()
    settings = {
        "routing_strategy": "fixed",
        "budget_daily_usd": 1.0,
        "budget_alert_thresholds": ",".join(map(str, THRESHOLDS)),
        "budget_refresh_s": 0,  # each replica reads the others' spend at every check
    }
    replicas = [await make_app(database, notifiers=[notifier], **settings) for _ in range(3)]
    await asyncio.gather(
        *(app.engine.handle(ask(r, n), ConsoleReply(echo=False))
          for n in range(6) for r, app in enumerate(replicas))
    )  # fmt: skip
    posted = [int(re.findall(r"at (\d+)%", n.title)[0]) for n in notifier.notices]
    assert posted == sorted(set(posted)), posted  # strictly upwards: no repeat, none lower
    assert posted[-1] == 100
    named = set(posted)
    for notice in notifier.notices:
        also = re.search(r"also passed ([\d%, ]+)\)", notice.text)
        named |= {int(t) for t in re.findall(r"\d+", also.group(1))} if also else set()
    assert named == set(THRESHOLDS)  # every threshold announced or named
    # No alert check failed and no ledger write had to be spooled: the alert lock is never held
    # while waiting for another pooled connection (on SQLite that starved the pool for 5 s).
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_crossing_several_thresholds_at_once_posts_one_alert_naming_the_others(
    sqlite_db: Database, make_app: MakeApp, provider: FakeProvider
) -> None:
    provider.enqueue(Scripted(cost_usd=Decimal("0.85")), Scripted(cost_usd=Decimal("0.1")))
    notifier = SlowNotifier()
    app = await make_app(sqlite_db, routing_strategy="fixed", budget_daily_usd=1.0,
                         notifiers=[notifier])  # fmt: skip
    await app.engine.handle(ask(0, 1), ConsoleReply(echo=False))
    await app.engine.handle(ask(0, 2), ConsoleReply(echo=False))
    assert [n.title for n in notifier.notices] == ["Budget alert: daily budget at 80%"]
    assert "$0.8500 of $1.0000 spent (85%)" in notifier.notices[0].text
    assert "(also passed 50%)" in notifier.notices[0].text
