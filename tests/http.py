"""httpx clients for the tests' loopback HTTP, sharing one TLS context: httpx builds a context per
client otherwise, loading the CA bundle each time (~24 ms of CPU; ~150 clients a run)."""

from __future__ import annotations

from typing import Any

import httpx

TLS = httpx.create_ssl_context()


def http_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=TLS, **options)
