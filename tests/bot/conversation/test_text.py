"""Text hygiene: cleaning, trimming, and splitting with code fences kept balanced."""

from __future__ import annotations

import pytest

from bot.conversation.text import clean_text, split_message, trim_text


def test_clean_text_keeps_meaningful_characters() -> None:
    assert clean_text("  a\x00b\x07c\r\n\td  ") == "abc\r\n\td"
    assert clean_text("e\u0301") == "é"  # NFC: one code point
    assert clean_text("x\ud800y") == "x?y"
    assert clean_text("שלום 👋🏽") == "שלום 👋🏽"


def test_trim_text_prefers_a_word_boundary() -> None:
    text = "alpha beta gamma delta epsilon"
    assert trim_text(text, 100) == (text, False)
    assert trim_text(text, 25) == ("alpha beta gamma delta", True)
    # A boundary far back (more than 20% of the limit) is not worth losing that much text.
    assert trim_text("alpha beta gamma", 14) == ("alpha beta gam", True)
    assert trim_text("x" * 50, 10) == ("x" * 10, True)


def fences_balanced(part: str) -> bool:
    return sum(1 for line in part.split("\n") if line.strip().startswith("```")) % 2 == 0


@pytest.mark.parametrize("limit", [40, 100, 2000])
def test_split_message_respects_the_limit_and_keeps_fences_balanced(limit: int) -> None:
    code = "\n".join(f"    line_{i} = compute({i})" for i in range(60))
    text = f"Intro paragraph.\n\n```python\n{code}\n```\n\nAfter the code, a closing remark."
    parts = split_message(text, limit)
    assert all(len(p) <= limit for p in parts), [len(p) for p in parts]
    assert all(fences_balanced(p) for p in parts)
    if len(text) <= limit:
        assert parts == [text]
    else:
        assert len(parts) > 1
        reopened = [p for p in parts[1:] if p.startswith("```python\n")]
        assert reopened, "a part continuing the code block reopens it with its info string"
    # Nothing is lost: every code line appears in some part.
    joined = "\n".join(parts)
    assert all(f"line_{i} = compute({i})" in joined for i in range(60))


def test_split_message_prefers_paragraph_breaks() -> None:
    text = "first paragraph " * 3 + "\n\n" + "second paragraph " * 3
    parts = split_message(text, 60)
    assert parts[0].rstrip() == ("first paragraph " * 3).rstrip()
    assert parts[1].startswith("second")


def test_split_message_refuses_absurd_limits() -> None:
    with pytest.raises(ValueError):
        split_message("text", 5)
