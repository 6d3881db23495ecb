"""Router versions: tune one from the deployment's labels, adopt it only when it is not worse,
make any version the active one (rollback), and keep live scoring on the active version."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.errors import ConfigError
from routing.active import ScorerSlot
from routing.analyzer.scorer import QueryAnalyzer, Scorer
from routing.learning.examples import LabelledExample
from storage.claims import Claims
from storage.learning import LearningData, VersionRow

if TYPE_CHECKING:
    from routing.learning.tuning import TuneResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuned:
    version: int
    result: TuneResult


class RouterVersions:
    def __init__(self, store: LearningData, base: QueryAnalyzer, slot: ScorerSlot) -> None:
        self._store, self._base, self._slot = store, base, slot
        self._unloadable: int | None = None

    def scorer(self, row: VersionRow) -> Scorer:
        if row.model is None:
            raise ValueError(f"router version {row.id} has no model")
        # The memory's code loads with the first version scored: a bot on the shipped
        # analyzer does not carry it (docs/benchmarks.md, section 12).
        from routing.learning.tuned import TunedAnalyzer

        return TunedAnalyzer.from_json(json.loads(row.model), self._base)

    async def refresh(self) -> int | None:
        """Score with the active version (another replica or `router use` may have changed it)."""
        row = await self._store.active()
        if row is None:
            if self._slot.version is not None:
                self._slot.use(self._base, None)
                log.info("router: back to the shipped analyzer")
            return None
        if row.id != self._slot.version:
            try:
                scorer = self.scorer(row)
            except ValueError as error:  # an older format, or other analyzer weights
                if self._unloadable != row.id:
                    log.warning("router: version %s cannot be loaded (%s); scoring with the "
                                "shipped analyzer until `switchboard router tune` makes a new "
                                "one", row.id, error)  # fmt: skip
                    self._unloadable = row.id
                if self._slot.version is not None:
                    self._slot.use(self._base, None)
                return None
            self._slot.use(scorer, row.id)
            log.info("router: now scoring with version %s", row.id)
        return row.id

    async def use(self, version: int | None, *, force: bool = False) -> bool:
        """Make `version` active (None: the shipped analyzer); False when it does not exist.
        A version the guard refused is activated only with `force`."""
        if version is None:
            await self._store.deactivate_all()
        else:
            row = await self._store.version(version)
            if row is None or row.model is None:
                return False
            if not row.adopted and not force:
                raise ConfigError(
                    f"router version {version} was not adopted ({row.reason}); add --force to "
                    "use it anyway"
                )
            try:
                self.scorer(row)
            except ValueError as error:
                raise ConfigError(f"router version {version} cannot be used: {error}") from None
            if not await self._store.activate(version):
                return False
        await self.refresh()
        return True

    async def tune(self, examples: Sequence[LabelledExample], *, seed: int = 0) -> Tuned:
        """Cross-fit on the labels, compare with the active version on all of them, store the
        version with what it saw and how it measured, and activate it only when adopted."""
        # The tuning stack (cross-fitting, metrics, statistics) is loaded by a process that
        # tunes, not by every bot that only scores with a version.
        from routing.learning.tuning import tune

        await self.refresh()
        # Seconds of pure CPU on thousands of labels: off the event loop (the daily tune runs in
        # the bot process), so answers keep flowing meanwhile.
        result = await asyncio.to_thread(
            tune, self._base, examples, seed=seed, current=self._slot.current
        )
        version = await self._store.add_version(
            base=self._base.fingerprint or "",
            model=None if result.model is None else json.dumps(result.model),
            metrics=json.dumps(_metrics(result)),
            data=json.dumps(
                {
                    "labels": len(examples),
                    "used": dict(result.labels),
                    "questions": result.questions,
                    "more_labels": result.more_labels,
                }
            ),
            adopted=result.adopted,
            reason=result.reason,
            activate=result.adopted,
        )
        if result.adopted:
            await self.refresh()
        return Tuned(version, result)

    async def follow(self, interval_s: float) -> None:
        """Keep scoring with the active version, checking every `interval_s` (run service)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.refresh()
            except Exception:  # a database hiccup: the current version keeps serving
                log.exception("router: checking the active version failed")


class DailyTune:
    """`ROUTER_TUNE_DAILY`: once a local day, after the digest time, one replica tunes (claimed
    in the database) and the version is adopted only when it is not worse."""

    def __init__(
        self,
        versions: RouterVersions,
        labels: Callable[[], Awaitable[Sequence[LabelledExample]]],
        claims: Claims,
        zone: ZoneInfo,
        at: tuple[int, int],
        clock: Callable[[], datetime],
    ) -> None:
        self._versions, self._labels, self._claims = versions, labels, claims
        self._zone, self._at, self._clock = zone, at, clock

    async def run_once(self) -> Tuned | None:
        local = self._clock().astimezone(self._zone)
        if (local.hour, local.minute) < self._at:
            return None
        if not await self._claims.claim("router-tune", "all", local.date().isoformat()):
            return None
        tuned = await self._versions.tune(await self._labels())
        log.info("router: daily tune made version %s: %s", tuned.version, tuned.result.reason)
        return tuned

    async def serve(self, check_s: float = 600.0) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("router: daily tune failed")
            await asyncio.sleep(check_s)


def _metrics(result: TuneResult) -> dict[str, Any]:
    if result.comparison is None:
        return {}
    return asdict(result.comparison)
