"""A/B experiments as the routing file declares them.

An experiment in the routing file (TOML):

    [[experiments]]
    name = "tiered-vs-gpt4o"
    channels = ["C024BE91L"]          # omit (or []) for everywhere
    start = 2026-12-01T00:00:00Z      # optional; UTC-aware (an offset is required)
    stop = 2026-12-15T00:00:00Z       # optional
    target_threads = 400              # per variant, before any recommendation
    variants = [
      {name = "control", strategy = "fixed", model = "openai/gpt-4o", weight = 1},
      {name = "tiered", strategy = "tiered", weight = 1},
    ]

The first variant is the control the others are compared with. Assignment is sticky per thread:
blake2b(f"{experiment}:{thread_key}") mod 10,000 against the cumulative weights, so the same
thread lands in the same variant in every process and after every restart (never Python's
per-process `hash()`). Window rules (our choice):

- a thread is enrolled only if it was created while the experiment runs (a conversation that
  began before the start keeps the default strategy, so no thread switches strategy mid-way);
- an enrolled thread keeps its variant while the experiment runs; once it stops (or is removed
  from the file), every thread, old or new, gets the default strategy. The
  report only counts calls made inside the window, so those later calls do not pollute it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import ConfigError

BUCKETS = 10_000


@dataclass(frozen=True)
class Variant:
    name: str
    strategy: str  # a strategy name, or "fixed" with `model`
    model: str | None = None
    weight: float = 1.0
    router_version: int | None = None  # a "tiered" variant scoring with this router version

    @property
    def label(self) -> str:
        if self.router_version is not None:
            return f"{self.strategy} router v{self.router_version}"
        return f"{self.strategy} {self.model}" if self.model else self.strategy


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]
    channels: tuple[str, ...] = ()  # empty: everywhere
    start: datetime | None = None
    stop: datetime | None = None
    target_threads: int = 200

    @property
    def control(self) -> Variant:
        return self.variants[0]

    def running(self, now: datetime) -> bool:
        return (self.start is None or self.start <= now) and (self.stop is None or now < self.stop)

    def status(self, now: datetime) -> str:
        if self.start is not None and now < self.start:
            return "scheduled"
        return "running" if self.running(now) else "stopped"

    def in_scope(self, channel: str) -> bool:
        return not self.channels or channel in self.channels

    def variant_for(self, thread_key: str) -> Variant:
        """The sticky variant of a thread: its hash bucket against the cumulative weights."""
        point = bucket(self.name, thread_key)
        total = sum(v.weight for v in self.variants)
        running = 0.0
        for variant in self.variants:
            running += variant.weight
            if point < round(BUCKETS * running / total):
                return variant
        return self.variants[-1]


def bucket(experiment: str, thread_key: str) -> int:
    key = f"{experiment}:{thread_key}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") % BUCKETS


class _VariantModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    strategy: str = Field(min_length=1)
    model: str | None = Field(default=None, min_length=1)
    weight: float = Field(default=1.0, gt=0)
    router_version: int | None = Field(default=None, ge=1)


class _ExperimentModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    variants: list[_VariantModel] = Field(min_length=2)
    channels: list[str] = Field(default_factory=list)
    start: AwareDatetime | None = None
    stop: AwareDatetime | None = None
    target_threads: int = Field(default=200, ge=2)

    @model_validator(mode="after")
    def _consistent(self) -> _ExperimentModel:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique: {names}")
        if self.start and self.stop and self.stop <= self.start:
            raise ValueError("stop must be after start")
        return self


def parse_experiments(
    raw: Sequence[Mapping[str, Any]], known_strategies: Sequence[str] = ()
) -> tuple[Experiment, ...]:
    """Validate the routing file's `[[experiments]]`; errors name the experiment and field."""
    experiments: list[Experiment] = []
    for index, table in enumerate(raw):
        where = f"experiments[{index}]"
        try:
            parsed = _ExperimentModel.model_validate(table)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join([where, *(str(p) for p in e['loc'])])}: {e['msg']}"
                for e in error.errors()
            )
            raise ConfigError(f"ROUTING_FILE: {problems}") from None
        for number, v in enumerate(parsed.variants):
            field_name = f"{where}.variants.{number}"
            if v.model is not None and v.strategy != "fixed":
                raise ConfigError(
                    f"ROUTING_FILE: {field_name}.model: only a 'fixed' variant takes a model"
                )
            if v.router_version is not None and v.strategy not in ("tiered", "tiered-edenai"):
                raise ConfigError(
                    f"ROUTING_FILE: {field_name}.router_version: only a 'tiered' or "
                    "'tiered-edenai' variant scores with a router version"
                )
            if known_strategies and v.strategy not in known_strategies:
                known = ", ".join(sorted(known_strategies))
                raise ConfigError(
                    f"ROUTING_FILE: {field_name}.strategy: unknown strategy "
                    f"{v.strategy!r} (known: {known})"
                )
        if any(e.name == parsed.name for e in experiments):
            raise ConfigError(f"ROUTING_FILE: {where}.name: duplicate experiment {parsed.name!r}")
        experiments.append(
            Experiment(
                name=parsed.name,
                variants=tuple(
                    Variant(v.name, v.strategy, v.model, v.weight, v.router_version)
                    for v in parsed.variants
                ),
                channels=tuple(parsed.channels),
                start=parsed.start,
                stop=parsed.stop,
                target_threads=parsed.target_threads,
            )
        )
    return tuple(experiments)


def find_experiment(experiments: Sequence[Experiment], name: str) -> Experiment:
    for experiment in experiments:
        if experiment.name == name:
            return experiment
    known = ", ".join(e.name for e in experiments) or "none"
    raise ConfigError(f"no experiment named {name!r} in the routing file (known: {known})")
