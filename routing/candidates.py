"""Candidates are (provider, model): where a request goes, what it asks for, what it costs.

A plain name in the routing file (`"openai/gpt-4o-mini"`) is a model on the default provider
(LLM_BASE_URL and LLM_API_KEY). A model on a provider the routing file names is written as an
inline table, `{ provider = "local", model = "llama3.1:8b" }`, and its key, the name routing
decisions and model health use, is `"llama3.1:8b@local"`. `price_as` names the model a
provider's alias is priced as (`support-fast` on a LiteLLM proxy, priced as `gpt-4o-mini`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

DEFAULT_PROVIDER = "default"  # LLM_BASE_URL with LLM_API_KEY
ProviderKind = Literal["edenai", "openai"]


@dataclass(frozen=True)
class Candidate:
    model: str  # the name the provider is asked for
    provider: str = DEFAULT_PROVIDER
    price_as: str | None = None  # the model whose list price applies (an alias's real model)

    @property
    def key(self) -> str:
        return self.model if self.provider == DEFAULT_PROVIDER else f"{self.model}@{self.provider}"

    @property
    def priced_as(self) -> str:
        return self.price_as or self.model


@dataclass(frozen=True)
class ProviderSpec:
    """A `[providers.NAME]` section: an OpenAI-compatible API besides the default one."""

    name: str
    base_url: str
    api_key_env: str = ""  # the setting or environment variable holding its key ("": none)
    kind: ProviderKind | None = None  # None: inferred from the base URL

    @property
    def wire(self) -> ProviderKind:
        return self.kind or infer_kind(self.base_url)


def infer_kind(base_url: str) -> ProviderKind:
    """Eden AI (its extras, such as `router_candidates`, go only to it) for an edenai.run host
    or a `/v3` base path (Eden AI's API version, which the built-in simulator serves too);
    any other URL gets the plain OpenAI request."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    eden_host = host == "edenai.run" or host.endswith(".edenai.run")
    return "edenai" if eden_host or parts.path.rstrip("/").endswith("/v3") else "openai"


@dataclass(frozen=True)
class Catalog:
    """Every candidate the routing file describes, by key; any other name resolves too."""

    providers: Mapping[str, ProviderSpec] = field(default_factory=dict)
    entries: Mapping[str, Candidate] = field(default_factory=dict)

    def resolve(self, key: str) -> Candidate:
        """The routing file's entry for `key`; else `model@provider` for a named provider;
        else a model on the default provider (FIXED_MODEL, JUDGE_MODEL, `@edenai`, ...)."""
        found = self.entries.get(key)
        if found is not None:
            return found
        model, at, provider = key.rpartition("@")
        if at and model and provider in self.providers:
            return Candidate(model, provider)
        return Candidate(key)

    def price_name(self, key: str) -> str:
        return self.resolve(key).priced_as
