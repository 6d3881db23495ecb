"""Optional semantic retrieval (KB_EMBEDDING_MODEL, off by default): passage embeddings from
the provider's `/embeddings`, fused with the lexical ranking.

Every request goes through the one metered call path (`Calls.embed`), so each is a ledger row
with its cost and purpose `embedding`: at `kb add`/`kb sync`, the passages with no vector from
the model, in batches (a re-indexed page keeps the vectors of the passages whose text did not
change: `storage.knowledge_vectors.carry`); at answer time, the question, one call. The
question's vector is compared (cosine) with the stored vectors of the lexical candidates only:
semantic similarity re-orders what the word index found, it does not find passages that share
no word with the question (that needs a scan of every vector, which pure Python cannot do in
a question's time). The two orders are fused by reciprocal rank fusion. A failed or refused
embedding call leaves the lexical order (logged once until a call succeeds again); a passage
not embedded yet counts its lexical rank twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from operator import mul

from bot.errors import SwitchboardError
from bot.llm.calls import Calls
from bot.llm.errors import ProviderError
from bot.llm.types import Asker
from storage.knowledge import KnowledgeStore
from storage.knowledge_vectors import pack, pending, store, unpack, vectors

log = logging.getLogger(__name__)

BATCH = 64  # passages per embedding request
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al., 2009)


@dataclass(frozen=True)
class Embedding:
    """What one `embed_pending` did: passages embedded, requests made, their cost."""

    passages: int = 0
    calls: int = 0
    cost_nano_usd: int = 0  # of the requests with a known price
    unpriced: int = 0  # requests whose price is unknown (flagged on the ledger)
    error: str = ""  # the reason embedding stopped early ("": it did not)


class Semantic:
    def __init__(self, calls: Calls, knowledge: KnowledgeStore, model: str) -> None:
        self.calls = calls
        self.knowledge = knowledge
        self.model = model
        self._failing = False  # logged once until a call succeeds again

    async def embed_pending(self, asker: Asker | None = None) -> Embedding:
        """Embed every passage with no vector from the model, `BATCH` at a time."""
        done = Embedding()
        while batch := await self.knowledge.run(lambda conn: pending(conn, self.model, BATCH)):
            try:
                found = await self.calls.embed(
                    [text for _, text, _ in batch], model=self.model, asker=asker or Asker()
                )
            except (ProviderError, SwitchboardError) as error:
                return replace(done, error=str(error))
            rows = [
                (passage_id, digest, pack(vector))
                for (passage_id, _, digest), vector in zip(batch, found.vectors, strict=True)
            ]
            stored = await self.knowledge.run(partial(store, model=self.model, rows=rows))
            done = Embedding(
                done.passages + stored,
                done.calls + 1,
                done.cost_nano_usd + (found.cost_nano_usd or 0),
                done.unpriced + (found.cost_nano_usd is None),
            )
        return done

    async def similarities(
        self, question: str, passage_ids: Sequence[int], asker: Asker | None
    ) -> dict[int, float] | None:
        """Cosine similarity of the question with each passage that has a vector; None when
        the question could not be embedded (then the lexical order stands)."""
        if not passage_ids:
            return {}
        stored = await self.knowledge.run(lambda conn: vectors(conn, self.model, passage_ids))
        if not stored:
            return {}
        try:
            found = await self.calls.embed([question], model=self.model, asker=asker or Asker())
        except (ProviderError, SwitchboardError) as error:
            if not self._failing:
                log.warning("semantic retrieval off for now, lexical only: %s", error)
            self._failing = True
            return None
        self._failing = False
        scale, asked = unpack(pack(found.vectors[0]))
        similar = {}
        for passage_id, blob in stored.items():
            other_scale, values = unpack(blob)
            if len(values) == len(asked):
                similar[passage_id] = sum(map(mul, asked, values)) * scale * other_scale
        return similar


def fused(lexical: Sequence[int], similarity: dict[int, float]) -> list[int]:
    """`lexical` (passage ids, best first) re-ordered by reciprocal rank fusion with their
    similarity order: 1/(k + lexical rank) + 1/(k + semantic rank). A passage with no vector
    (not embedded yet) takes its lexical rank as its semantic one: neither helped nor hurt."""
    semantic = sorted(similarity, key=lambda p: -similarity[p])
    rank = {passage_id: n for n, passage_id in enumerate(semantic, 1)}
    score = {
        passage_id: 1 / (RRF_K + n) + 1 / (RRF_K + rank.get(passage_id, n))
        for n, passage_id in enumerate(lexical, 1)
    }
    return sorted(lexical, key=lambda p: -score[p])
