"""Extra headers and query parameters for every provider request, read from two settings.

`LLM_EXTRA_HEADERS`: a JSON object, or `Name: value` pairs separated by commas or newlines
(`HTTP-Referer: https://example.com, X-Title: Switchboard`). `LLM_EXTRA_QUERY`: a query string
(`api-version=2024-10-21`). A mistake raises `ValueError` with a message that names the header
but never repeats a value: header values may be credentials.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field-name
_VALUE = re.compile(r"[\t\x20-\x7e]*")  # visible ASCII, space and tab: what httpx can send
HEADERS_FORMAT = (
    "expected a JSON object or 'Name: value' pairs separated by commas or newlines, "
    "e.g. HTTP-Referer: https://example.com, X-Title: Switchboard"
)
QUERY_FORMAT = "expected name=value pairs joined by &, e.g. api-version=2024-10-21"


def parse_headers(text: str) -> dict[str, str]:
    text = text.strip()
    if not text:
        return {}
    if text[0] in "{[":  # JSON (an array is a mistake it should name as such)
        try:
            raw = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"not valid JSON; {HEADERS_FORMAT}") from None
        if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
            raise ValueError(f"every value must be a string; {HEADERS_FORMAT}")
        pairs = [(str(name).strip(), value.strip()) for name, value in raw.items()]
    else:
        pairs = []
        for entry in re.split(r"[,\n]", text):
            if not entry.strip():
                continue
            name, colon, value = entry.partition(":")
            if not colon:
                raise ValueError(f"an entry has no ':'; {HEADERS_FORMAT}")
            pairs.append((name.strip(), value.strip()))
    headers: dict[str, str] = {}
    for name, value in pairs:
        if not _TOKEN.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name; {HEADERS_FORMAT}")
        if not _VALUE.fullmatch(value):
            raise ValueError(f"the value of header {name!r} has characters a header cannot carry")
        headers[name] = value
    return headers


def parse_query(text: str) -> tuple[tuple[str, str], ...]:
    text = text.strip().removeprefix("?")
    if not text:
        return ()
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError(f"{text!r} is not a query string; {QUERY_FORMAT}") from None
    if any(not name.strip() for name, _ in pairs):
        raise ValueError(f"a parameter has no name; {QUERY_FORMAT}")
    return tuple(pairs)
