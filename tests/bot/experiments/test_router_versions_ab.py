"""An A/B experiment between two router versions: each variant scores with its own version,
the calls say which, and the report compares them with the usual statistics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli.console import ConsoleReply
from bot.conversation.messages import Incoming
from bot.errors import ConfigError
from bot.experiments.report import build_report
from routing.analyzer.scorer import QueryAnalyzer
from routing.learning.crossfit import fit_memory
from routing.learning.examples import example_from_signal
from storage.learning import LearningData
from storage.tables import calls_t, utcnow
from tests.bot.experiments.helpers import routing_file
from tests.conftest import Database, MakeApp
from tests.rows import rows

VERSIONS_AB = """
[[experiments]]
name = "router-v1-vs-v2"
target_threads = 20
variants = [
  {name = "v1", strategy = "tiered", router_version = 1},
  {name = "v2", strategy = "tiered", router_version = 2},
]
"""


async def add_version(store: LearningData, needs_premium: float) -> int:
    """A version whose memory learned that refund questions need (or do not need) premium."""
    base = QueryAnalyzer.load()
    texts = [f"how do I get a refund for order {n}" for n in range(20)]
    texts += [f"what are your opening hours on day {n}" for n in range(20)]
    kind = "escalation" if needs_premium else "thumbs_up"
    examples = [example_from_signal(t, kind if "refund" in t else "thumbs_up") for t in texts]
    memory = fit_memory(examples, base_fingerprint=base.fingerprint)
    return await store.add_version(base=base.fingerprint, model=json.dumps(memory.to_json()),
                                   metrics="{}", data="{}", adopted=True, reason="test",
                                   activate=False)  # fmt: skip


async def test_two_router_versions_split_the_threads(
    sqlite_db: Database, make_app: MakeApp, tmp_path: Path
) -> None:
    seed = await make_app(sqlite_db)
    assert await add_version(seed.stores.learning, 1.0) == 1
    assert await add_version(seed.stores.learning, 0.0) == 2
    app = await make_app(sqlite_db, routing_file=routing_file(tmp_path, VERSIONS_AB))
    for n in range(30):
        incoming = Incoming("console", "w", "c1", f"t{n}", "u1", f"How do I get a refund {n}?",
                            f"e{n}")  # fmt: skip
        assert (await app.engine.handle(incoming, ConsoleReply(echo=False))).status == "answered"
    calls = await rows(app.stores.db, calls_t)
    assert {c.variant: c.router_version for c in calls} == {"v1": 1, "v2": 2}
    by_version = {v: [c.score for c in calls if c.router_version == v] for v in (1, 2)}
    assert min(by_version[1]) > max(by_version[2]), "the two versions score refunds apart"
    (experiment,) = app.routing.experiments
    assert [v.label for v in experiment.variants] == ["tiered router v1", "tiered router v2"]
    report = await build_report(app.stores.experiments, experiment, utcnow())
    assert sum(v.threads for v in report.variants) == 30 and report.recommendation is None


async def test_a_missing_version_stops_start_up_with_one_line(
    sqlite_db: Database, make_app: MakeApp, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="no router version 1 with a model"):
        await make_app(sqlite_db, routing_file=routing_file(tmp_path, VERSIONS_AB))
