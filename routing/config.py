"""The routing file (TOML): tier pools, calibrated thresholds, Eden candidates, experiments,
and the providers besides the default one (routing/candidates.py).

Parsed with pydantic at the edge, handed around as frozen dataclasses.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from routing.candidates import DEFAULT_PROVIDER, Candidate, Catalog, ProviderKind, ProviderSpec
from routing.tiers import TIERS, Tier

DEFAULT_ROUTING_FILE = Path(__file__).with_name("default_routing.toml")


class RoutingFileError(ValueError):
    """The routing file is missing or invalid; the message names the file and field."""


@dataclass(frozen=True)
class Thresholds:
    budget_below: float
    premium_from: float

    def tier_for(self, score: float) -> Tier:
        if score >= self.premium_from:
            return "premium"
        if score < self.budget_below:
            return "budget"
        return "balanced"


@dataclass(frozen=True)
class RoutingConfig:
    tiers: dict[Tier, tuple[str, ...]]
    thresholds: Thresholds
    edenai_candidates: tuple[str, ...]  # empty without an [edenai] section
    experiments: tuple[dict[str, Any], ...] = field(default=())  # raw, parsed by bot.experiments
    source: Path = DEFAULT_ROUTING_FILE
    catalog: Catalog = field(default_factory=Catalog)  # the providers and their models

    @property
    def premium_model(self) -> str:
        return self.tiers["premium"][0]


class _EntryModel(BaseModel):
    """A tier entry as an inline table: a model on a named provider, or priced as another."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1)
    provider: str = DEFAULT_PROVIDER
    price_as: str | None = Field(default=None, min_length=1)

    def candidate(self) -> Candidate:
        return Candidate(self.model, self.provider, self.price_as)


Entry = str | _EntryModel


class _TiersModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget: list[Entry] = Field(min_length=1)
    balanced: list[Entry] = Field(min_length=1)
    premium: list[Entry] = Field(min_length=1)


class _ProviderModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str = Field(pattern=r"^https?://")
    api_key_env: str = ""
    kind: ProviderKind | None = None


class _ThresholdsModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    budget_below: float = Field(ge=0, le=1)
    premium_from: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> _ThresholdsModel:
        if self.budget_below > self.premium_from:
            raise ValueError("budget_below must not exceed premium_from")
        return self


class _EdenModel(BaseModel):
    candidates: list[str] = Field(min_length=1, max_length=10)


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tiers: _TiersModel
    thresholds: _ThresholdsModel
    edenai: _EdenModel | None = None  # only the edenai strategy needs it
    providers: dict[str, _ProviderModel] = Field(default_factory=dict)
    experiments: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_providers(self) -> _FileModel:
        if DEFAULT_PROVIDER in self.providers:
            raise ValueError(f"providers.{DEFAULT_PROVIDER} is LLM_BASE_URL: name yours otherwise")
        for tier in TIERS:
            for entry in getattr(self.tiers, tier):
                if isinstance(entry, _EntryModel) and entry.provider not in (
                    DEFAULT_PROVIDER, *self.providers
                ):
                    raise ValueError(
                        f"tiers.{tier}: {entry.model!r} is on provider {entry.provider!r}, "
                        f"which has no [providers.{entry.provider}] section"
                    )
        return self


def load_routing(path: Path | None = None) -> RoutingConfig:
    """Read and validate a routing file; errors name the file and the bad field."""
    path = path or DEFAULT_ROUTING_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = _FileModel.model_validate(raw)
    except FileNotFoundError:
        raise RoutingFileError(f"ROUTING_FILE: {path} does not exist") from None
    except UnicodeDecodeError:
        raise RoutingFileError(f"ROUTING_FILE: {path} is not UTF-8 text") from None
    except IsADirectoryError:
        raise RoutingFileError(f"ROUTING_FILE: {path} is a folder, not a file") from None
    except tomllib.TOMLDecodeError as error:
        raise RoutingFileError(f"ROUTING_FILE: {path} is not valid TOML: {error}") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise RoutingFileError(f"ROUTING_FILE: {path}: {problems}") from None
    entries: dict[str, Candidate] = {}
    tiers: dict[Tier, tuple[str, ...]] = {}
    for tier in TIERS:
        keys = []
        for entry in getattr(parsed.tiers, tier):
            if isinstance(entry, _EntryModel):
                candidate = entry.candidate()
                entries[candidate.key] = candidate
                keys.append(candidate.key)
            else:
                keys.append(entry)
        tiers[tier] = tuple(keys)
    providers = {
        name: ProviderSpec(name, spec.base_url, spec.api_key_env, spec.kind)
        for name, spec in parsed.providers.items()
    }
    return RoutingConfig(
        tiers=tiers,
        thresholds=Thresholds(parsed.thresholds.budget_below, parsed.thresholds.premium_from),
        edenai_candidates=tuple(parsed.edenai.candidates) if parsed.edenai else (),
        experiments=tuple(parsed.experiments),
        source=path,
        catalog=Catalog(providers, entries),
    )


def write_thresholds(path: Path, thresholds: Thresholds, source: Path | None = None) -> None:
    """Write `thresholds` into the routing file at `path` (created from `source` if missing).

    Only the two threshold lines change, so the file's comments and layout survive.
    """
    base = path if path.exists() else (source or DEFAULT_ROUTING_FILE)
    text = base.read_text(encoding="utf-8")
    values = {"budget_below": thresholds.budget_below, "premium_from": thresholds.premium_from}
    for key, value in values.items():
        line = re.compile(rf"^{key}\s*=.*$", re.MULTILINE)
        replacement = f"{key} = {value:.6f}"
        text, found = line.subn(replacement, text, count=1)
        if not found:
            raw = tomllib.loads(text)
            raw["thresholds"] = {k: round(v, 6) for k, v in values.items()}
            import tomli_w  # only here (calibration), not in every bot

            text = tomli_w.dumps(raw)
            break
    load_check = tomllib.loads(text)  # never write a file we could not read back
    if "thresholds" not in load_check:
        raise RoutingFileError(f"ROUTING_FILE: could not write thresholds into {path}")
    path.write_text(text, encoding="utf-8")
