"""What semantic retrieval (KB_EMBEDDING_MODEL) does to recall, with a real embedding model
that runs offline: WordLlama's 256-dimension static embeddings, whose weights ship inside its
package (not a provider's model: a lower bound on what one would do).

Run: pip install --target /tmp/wordllama wordllama safetensors tokenizers toml requests
     PYTHONPATH=/tmp/wordllama .venv/bin/python bench/bench_kb_semantic.py [--docs DIR]

The Mastodon docs are indexed (`kb add`'s path) on SQLite, every passage embedded through
the bot's own metered call path (a ledger row per request, the model's price unknown), and
each labelled question is asked with semantic retrieval off and on: recall@1/3/5 on the dev
and held-out halves of each question set (bench/data/kb_questions*.jsonl).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.composition import build  # noqa: E402
from adapters.knowledge.folders import FolderReader  # noqa: E402
from bench.bench_kb_quality import KS, Question, load, on_docs, recall  # noqa: E402
from bot.knowledge.ingest import Ingest  # noqa: E402
from bot.knowledge.retrieval import KnowledgeBase  # noqa: E402
from bot.knowledge.semantic import Semantic  # noqa: E402
from bot.llm.errors import BadRequest  # noqa: E402
from bot.llm.types import ChatRequest, EmbeddingRequest, Embeddings, StreamResult, Usage  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.knowledge import KnowledgeStore  # noqa: E402

MODEL = "local/wordllama-l2-supercat-256"


class WordLlamaProvider:
    """A provider whose `/embeddings` is WordLlama, in process (no chat)."""

    def __init__(self) -> None:
        from wordllama import WordLlama  # type: ignore[import-not-found]

        self.model = WordLlama.load(disable_download=True)  # the weights in the package

    async def embed(self, request: EmbeddingRequest) -> Embeddings:
        began = time.perf_counter()
        vectors = self.model.embed(list(request.texts), norm=True)
        tokens = sum(len(t) // 4 + 1 for t in request.texts)
        elapsed = int((time.perf_counter() - began) * 1000)
        found = tuple(tuple(float(x) for x in v) for v in vectors)
        return Embeddings(found, MODEL, Usage(tokens, 0), None, elapsed)

    async def stream(self, request: ChatRequest) -> AsyncGenerator[str | StreamResult, None]:
        raise BadRequest(detail="this benchmark's provider answers embedding requests only")
        yield ""  # pragma: no cover


async def run(docs: Path) -> None:
    sets = sorted((ROOT / "bench" / "data").glob("kb_questions*.jsonl"))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{tmp}/kb.db",
            llm_api_key="k",
            kb_embedding_model=MODEL,
        )  # type: ignore[call-arg]
        app = await build(settings, provider=WordLlamaProvider())
        store = KnowledgeStore(app.stores.db)
        semantic = Semantic(app.calls, store, MODEL)
        started = time.perf_counter()
        report = await Ingest(store, FolderReader(), semantic).add([str(docs)], "default", None)
        assert report.embedding is not None
        print(
            f"indexed {report.read} documents, {report.embedding.passages} passages embedded "
            f"in {report.embedding.calls} requests ({time.perf_counter() - started:.1f} s)"
        )
        lexical, fused = KnowledgeBase(store), KnowledgeBase(store, semantic=semantic)
        print("| set | retrieval | " + " | ".join(
            f"{s} R@{k}" for s in ("dev", "held-out") for k in KS) + " |")  # fmt: skip
        print("|---|---|" + "---|" * 2 * len(KS))
        for path in sets:
            questions = [q for q in load(path) if q.needs]
            for label, kb in (("lexical", lexical), ("+ semantic (RRF)", fused)):
                rows = [(q, await kb.search(q.text, k=5)) for q in questions]
                print(f"| {path.stem} | {label} | " + " | ".join(
                    _mean(rows, split, k, docs) for split in ("dev", "held-out") for k in KS
                ) + " |")  # fmt: skip
        await store.close()
        await app.close()


def _mean(rows: list[tuple[Question, Any]], split: str, k: int, docs: Path) -> str:
    chosen = [(q, r) for q, r in rows if q.split == split]
    return f"{sum(recall(q, r, k, docs) for q, r in chosen) / max(len(chosen), 1):.2f}"


def main() -> None:
    on_docs(__doc__.split("\n")[0], run)


if __name__ == "__main__":
    main()
