"""What the simulator answers to `POST /embeddings`: labelled fake vectors, no I/O here.

A fake embedding is a hashed bag of words (each word adds +1 or -1 to one of `dimensions`
coordinates, by a blake2b hash of the word; the vector is then scaled to length 1), so texts
that share words point the same way and a search over simulated vectors still finds
overlapping texts. It is not a model's embedding: every response says `"simulated": true` (and
carries the `x-simulator` header like every simulator response).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from adapters.llm.simulator_profiles import WireError, model_not_found

DIMENSIONS = 64


@dataclass(frozen=True)
class EmbeddingProfile:
    name: str
    usd_per_mtok: Decimal

    def cost_usd(self, tokens: int) -> Decimal:
        return Decimal(tokens) * self.usd_per_mtok / Decimal(1_000_000)


# Late-2025 list prices (USD per 1M input tokens).
EMBEDDING_PROFILES: Mapping[str, EmbeddingProfile] = MappingProxyType({
    p.name: p for p in (
        EmbeddingProfile("openai/text-embedding-3-small", Decimal("0.02")),
        EmbeddingProfile("openai/text-embedding-3-large", Decimal("0.13")),
        EmbeddingProfile("mistral/mistral-embed", Decimal("0.10")),
    )
})  # fmt: skip


def fake_embedding(text: str, dimensions: int = DIMENSIONS) -> tuple[float, ...]:
    counts = [0.0] * dimensions
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        value = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        counts[value % dimensions] += 1.0 if value >> 63 else -1.0
    norm = math.sqrt(sum(c * c for c in counts))
    return tuple(c / norm for c in counts) if norm else tuple(counts)


def text_tokens(text: str) -> int:
    """ceil(characters / 4), at least 1: the simulator's token count of one input."""
    return max(1, math.ceil(len(text) / 4))


def embeddings_payload(
    body: Any, profiles: Mapping[str, EmbeddingProfile], *, report_cost: bool
) -> dict[str, Any]:
    """The response to an embeddings request, or a `WireError` (422 / 400) for a bad one."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise WireError(422, {"detail": [{"loc": ["body", "model"], "msg": "model is required"}]})
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        problem = {"loc": ["body", "input"], "msg": "input must be a string or strings"}
        raise WireError(422, {"detail": [problem]})
    profile = profiles.get(body["model"])
    if profile is None:
        raise model_not_found(body["model"])
    tokens = sum(text_tokens(t) for t in texts)
    payload: dict[str, Any] = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": list(fake_embedding(t))}
            for i, t in enumerate(texts)
        ],
        "model": profile.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        "simulated": True,
    }
    if report_cost:
        payload["cost"] = float(profile.cost_usd(tokens))
    return payload
