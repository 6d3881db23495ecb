"""The LLM part of the composition root: one HTTP client per provider the routing file names
(plus the default one, LLM_BASE_URL), and the one metered call path over them.

    providers = http_providers(settings, catalog, http, base_url)
    calls = metered_calls(settings, routing, providers, conversations, pricer, ...)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import httpx

from bot.errors import ConfigError
from bot.llm.calls import CallObserver, Calls, Holds
from bot.llm.dispatch import Dispatcher, RetryPolicy
from bot.llm.extras import parse_headers, parse_query
from bot.llm.pricing import Pricer
from bot.llm.provider import Provider
from bot.llm.recorder import CallRecorder, CallStore
from bot.settings import Settings
from routing.candidates import DEFAULT_PROVIDER, Catalog, ProviderSpec, infer_kind
from routing.config import RoutingConfig
from storage.tables import utcnow


def http_providers(
    settings: Settings, catalog: Catalog, http: httpx.AsyncClient, base_url: str
) -> dict[str, Provider]:
    """The default provider (`base_url`: LLM_BASE_URL or the simulator) and each
    `[providers.NAME]`, each told which request body it takes."""
    from adapters.llm.openai_client import ProviderClient, Timeouts

    timeouts = Timeouts(
        settings.llm_connect_timeout_s,
        settings.llm_first_token_timeout_s,
        settings.llm_total_timeout_s,
    )
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
    headers = settings.llm_extra_headers
    found: dict[str, Provider] = {
        # LLM_EXTRA_HEADERS and LLM_EXTRA_QUERY belong to LLM_BASE_URL alone: a header may
        # be a proxy's credential, which no other provider may see.
        DEFAULT_PROVIDER: ProviderClient(
            http,
            base_url,
            key or "simulated",
            timeouts,
            extra_headers=parse_headers(headers.get_secret_value() if headers else ""),
            extra_query=parse_query(settings.llm_extra_query),
            kind=infer_kind(base_url),
        )
    }
    for spec in catalog.providers.values():
        found[spec.name] = ProviderClient(
            http, spec.base_url, provider_key(settings, spec), timeouts, kind=spec.wire
        )
    return found


def provider_key(settings: Settings, spec: ProviderSpec) -> str:
    """The key `api_key_env` names ("" for a local server that needs none)."""
    if not spec.api_key_env:
        return ""
    secret = settings.secret(spec.api_key_env)
    return secret.get_secret_value() if secret is not None else ""


def provider_keys(settings: Settings, catalog: Catalog) -> list[str]:
    """The routing file's provider keys, so every log line and stored error masks them."""
    return [provider_key(settings, spec) for spec in catalog.providers.values()]


def metered_calls(
    settings: Settings,
    routing: RoutingConfig,
    providers: Provider | Mapping[str, Provider],
    store: CallStore,
    pricer: Pricer,
    *,
    baseline_model: str | None = None,
    holds: Holds | None = None,
    observers: Sequence[CallObserver] = (),
    clock: Callable[[], datetime] = utcnow,
    redact: Callable[[str], str] = str,
    rng: random.Random | None = None,
) -> Calls:
    """The one call path every provider request takes (answers, judge, shadow, checks,
    embeddings): retries and fallback across `providers`, one priced ledger row per try."""
    if isinstance(providers, Mapping):
        missing = set(routing.catalog.providers) - set(providers)
        if missing:
            raise ConfigError(f"ROUTING_FILE: no client for provider(s) {sorted(missing)}")
    policy = RetryPolicy(
        settings.llm_max_retries, settings.llm_backoff_base_s, settings.llm_backoff_max_s
    )
    resolve = routing.catalog.resolve
    dispatcher = Dispatcher(providers, policy, rng or random.Random(), resolve=resolve)
    recorder = CallRecorder(
        store, pricer, baseline_model=baseline_model, clock=clock, redact=redact
    )
    return Calls(dispatcher, recorder, holds=holds, observers=observers)
