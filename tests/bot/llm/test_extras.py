"""LLM_EXTRA_HEADERS and LLM_EXTRA_QUERY: both forms read, every mistake one line at start-up."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.llm.extras import parse_headers, parse_query
from bot.settings import load_settings

OPENROUTER = {"HTTP-Referer": "https://example.com", "X-Title": "Switchboard"}


@pytest.mark.parametrize(
    "text",
    [
        '{"HTTP-Referer": "https://example.com", "X-Title": "Switchboard"}',
        "HTTP-Referer: https://example.com, X-Title: Switchboard",
        "HTTP-Referer: https://example.com\nX-Title: Switchboard\n",
        " HTTP-Referer:https://example.com ,, X-Title:  Switchboard ",
    ],
)
def test_headers_as_json_or_name_value_pairs(text: str) -> None:
    assert parse_headers(text) == OPENROUTER


def test_no_headers_and_no_query() -> None:
    assert parse_headers("") == {} and parse_headers("  ") == {}
    assert parse_query("") == () and parse_query("?") == ()


def test_query_parameters() -> None:
    assert parse_query("api-version=2024-10-21") == (("api-version", "2024-10-21"),)
    assert parse_query("?a=1&b=x%20y&c=") == (("a", "1"), ("b", "x y"), ("c", ""))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("X-Title Switchboard", "has no ':'"),
        ("X Title: Switchboard", "'X Title' is not a valid header name"),
        ('{"X-Title": 3}', "must be a string"),
        ('["X-Title"]', "must be a string"),
        ('{"X-Title": "a"', "not valid JSON"),
        ('{"api-key": "sk-secret\\u00e9"}', "header 'api-key' has characters"),
    ],
)
def test_header_mistakes_name_the_header_never_the_value(text: str, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_headers(text)
    assert words in str(caught.value)
    assert "sk-secret" not in str(caught.value)


@pytest.mark.parametrize("text", ["api-version", "=1", "a=1&&b=2"])
def test_query_mistakes(text: str) -> None:
    with pytest.raises(ValueError, match="api-version=2024-10-21"):
        parse_query(text)


def test_bad_settings_stop_start_up_in_one_line_without_the_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, llm_extra_headers="api-key sk-live-a1b2c3d4e5f6")
    message = str(caught.value)
    assert "LLM_EXTRA_HEADERS" in message and "has no ':'" in message
    assert "\n" not in message and "sk-live" not in message
    with pytest.raises(ConfigError, match="LLM_EXTRA_QUERY"):
        load_settings(_env_file=None, llm_extra_query="api-version")
    settings = load_settings(_env_file=None, llm_extra_headers="api-key: sk-live-a1b2c3d4e5f6")
    assert "sk-live" not in repr(settings)  # a header may hold a credential: it is a secret
