"""CPU cost of the provider client per stream chunk: 2,000 chunks through `ProviderClient`
over httpx's MockTransport (no network), best of 20 by process CPU time (robust to a loaded
machine). Run against another checkout to compare: PYTHONPATH=/path/to/checkout."""

from __future__ import annotations

import asyncio
import json
import time

import httpx

from adapters.llm.openai_client import ProviderClient
from bot.llm.types import ChatMessage, ChatRequest

CHUNKS = 2000
CHOICE = {"index": 0, "delta": {"content": "word "}, "finish_reason": None}
CHUNK = {"id": "c", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [CHOICE]}
USAGE = {"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": CHUNKS}}
BODY = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in [CHUNK] * CHUNKS + [USAGE])
BODY += b"data: [DONE]\n\n"


async def main() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=BODY)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = ProviderClient(http, "http://127.0.0.1:9/v1", "k")
        request = ChatRequest("openai/gpt-4o", (ChatMessage("user", "q"),))
        best = float("inf")
        for _ in range(20):
            started = time.process_time()
            async for _ in client.stream(request):
                pass
            best = min(best, time.process_time() - started)
    print(f"{CHUNKS} chunks: {best * 1000:.1f} ms CPU, {best / CHUNKS * 1e6:.1f} us per chunk")


if __name__ == "__main__":
    asyncio.run(main())
    with open("/proc/loadavg") as f:
        print("loadavg", f.read().strip())
