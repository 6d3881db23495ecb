"""Front matter at the top of a Markdown page: YAML (`---`), TOML (`+++`) or JSON (`{`), as Hugo,
Docusaurus and Jekyll write it. Only the top-level scalar values are read (title, slug, ...): no
YAML library is needed for that, and nothing in a page can make the reader run code."""

from __future__ import annotations

import json
import re
import tomllib

_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """(the front matter's top-level scalars, the body after it); ({}, text) when there is none."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0].strip()
    if first in ("---", "+++"):
        end = re.search(rf"^{re.escape(first)}[ \t]*$", text[len(first) :], re.MULTILINE)
        if end is None:
            return {}, text
        head = text[len(first) : len(first) + end.start()]
        body = text[len(first) + end.end() :]
        return (_yaml(head) if first == "---" else _toml(head)), body
    if first.startswith("{"):
        decoder = json.JSONDecoder()
        try:
            value, end_at = decoder.raw_decode(text)
        except ValueError:
            return {}, text
        if isinstance(value, dict):
            return _scalars(value), text[end_at:]
    return {}, text


def _scalars(values: dict[str, object]) -> dict[str, str]:
    return {
        str(k).lower(): str(v)
        for k, v in values.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }


def _toml(head: str) -> dict[str, str]:
    try:
        return _scalars(tomllib.loads(head))
    except tomllib.TOMLDecodeError:
        return {}


def _yaml(head: str) -> dict[str, str]:
    """Top-level `key: value` lines; quoted values unquoted; `>`/`|` block scalars joined."""
    found: dict[str, str] = {}
    lines = head.splitlines()
    i = 0
    while i < len(lines):
        match = _YAML_KEY.match(lines[i])
        i += 1
        if match is None:
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if value[:1] in (">", "|"):
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] in " \t"):
                block.append(lines[i].strip())
                i += 1
            joiner = " " if value[0] == ">" else "\n"
            found[key] = joiner.join(part for part in block if part).strip()
        elif value and not value.startswith(("[", "{", "&", "*")):
            found[key] = _unquote(value)
    return found


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return re.sub(r"\s+#.*$", "", value)  # a trailing YAML comment
