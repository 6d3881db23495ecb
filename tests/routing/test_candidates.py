"""The routing file's providers: a tier lists models on any provider, an alias can be priced
as the model it stands for, and `[edenai]` is needed only by the strategy that uses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.routing_setup import baseline_model, build_routing
from bot.errors import ConfigError
from bot.settings import Settings
from routing.candidates import Candidate, infer_kind
from routing.config import DEFAULT_ROUTING_FILE, RoutingFileError, load_routing

PROVIDERS = """
[tiers]
budget = [{ provider = "local", model = "llama3.1:8b", price_as = "openai/gpt-4o-mini" },
          "openai/gpt-4o-mini"]
balanced = ["openai/gpt-4o"]
premium = [{ provider = "proxy", model = "support-premium", price_as = "openai/gpt-4o" }]

[thresholds]
budget_below = 0.2
premium_from = 0.8

[providers.local]
base_url = "http://localhost:11434/v1"
api_key_env = "OLLAMA_KEY"

[providers.proxy]
base_url = "https://llm.example.com/v3"
kind = "openai"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "routing.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_names_are_models_on_the_default_provider() -> None:
    config = load_routing(DEFAULT_ROUTING_FILE)
    first = config.tiers["budget"][0]
    assert config.catalog.resolve(first) == Candidate(first)
    assert config.catalog.resolve(first).provider == "default"
    assert config.edenai_candidates  # the bundled file keeps its [edenai] section


def test_tiers_list_models_on_named_providers_priced_as_another(tmp_path: Path) -> None:
    config = load_routing(write(tmp_path, PROVIDERS))
    assert config.tiers["budget"] == ("llama3.1:8b@local", "openai/gpt-4o-mini")
    local = config.catalog.resolve("llama3.1:8b@local")
    assert (local.provider, local.model, local.priced_as) == (
        "local", "llama3.1:8b", "openai/gpt-4o-mini")  # fmt: skip
    assert config.catalog.resolve("qwen2.5@local") == Candidate("qwen2.5", "local")
    assert config.catalog.resolve("@edenai") == Candidate("@edenai")  # Eden's router name
    spec = config.catalog.providers["local"]
    assert (spec.api_key_env, spec.wire) == ("OLLAMA_KEY", "openai")
    assert config.catalog.providers["proxy"].wire == "openai"  # said, not inferred
    settings = Settings(_env_file=None, routing_file=write(tmp_path, PROVIDERS))  # type: ignore[call-arg]
    assert baseline_model(settings, config) == "openai/gpt-4o"  # the alias's real model


@pytest.mark.parametrize(("url", "kind"), [
    ("https://api.edenai.run/v3", "edenai"), ("https://eu.edenai.run/v3/llm", "edenai"),
    ("http://127.0.0.1:8080/v3", "edenai"), ("https://api.openai.com/v1", "openai"),
    ("http://localhost:11434/v1", "openai"), ("https://openrouter.ai/api/v1", "openai"),
])  # fmt: skip
def test_the_request_body_kind_is_inferred_from_the_base_url(url: str, kind: str) -> None:
    assert infer_kind(url) == kind


def test_a_model_on_an_undeclared_provider_is_named(tmp_path: Path) -> None:
    text = PROVIDERS.replace('provider = "proxy"', 'provider = "prxy"')
    with pytest.raises(RoutingFileError, match=r"'support-premium' is on provider 'prxy'"):
        load_routing(write(tmp_path, text))


def test_edenai_section_is_needed_only_by_the_edenai_strategy(tmp_path: Path) -> None:
    path = write(tmp_path, PROVIDERS)
    for strategy in ("fixed", "tiered", "keyword", "tiered-edenai"):
        settings = Settings(_env_file=None, routing_file=path,  # type: ignore[call-arg]
                            routing_strategy=strategy)  # fmt: skip
        assert strategy in build_routing(settings).strategies
    settings = Settings(_env_file=None, routing_file=path,  # type: ignore[call-arg]
                        routing_strategy="edenai")  # fmt: skip
    with pytest.raises(ConfigError, match=r"ROUTING_STRATEGY=edenai needs an \[edenai\]"):
        build_routing(settings)
