"""`Lines`: many strings in one buffer, read back exactly."""

from __future__ import annotations

from array import array

import pytest

from routing.learning.lines import Lines
from routing.learning.neighbours import BLOCK_BITS, _two_level

TEXTS = ["how do i reset my password", "", "café ünïcode 🙂", "a\nb", "\udcff lone surrogate"]


def test_lines_read_back_every_string_exactly() -> None:
    lines = Lines(TEXTS)
    assert len(lines) == len(TEXTS)
    assert list(lines) == TEXTS
    assert [lines[i] for i in range(len(TEXTS))] == TEXTS
    assert lines[-1] == TEXTS[-1] and lines[1:3] == TEXTS[1:3]
    with pytest.raises(IndexError):
        lines[len(TEXTS)]
    assert Lines() == () and len(Lines()) == 0


def test_lines_equal_the_same_strings_whatever_holds_them() -> None:
    assert Lines(TEXTS) == Lines(iter(TEXTS))
    assert Lines(TEXTS) == tuple(TEXTS) and Lines(TEXTS) == TEXTS
    assert hash(Lines(TEXTS)) == hash(Lines(TEXTS))
    assert Lines(TEXTS) != Lines(TEXTS[:-1]) and Lines(["ab", "c"]) != Lines(["a", "bc"])
    assert Lines(["x"]) != "x"


@pytest.mark.parametrize("step", [1, 300, 70_000])
def test_two_level_offsets_give_back_every_offset(step: int) -> None:
    """Two bytes an offset while a block's postings fit, four when they do not."""
    size = 3 * (1 << BLOCK_BITS) + 5
    offsets = array("I", (i * step for i in range(size)))
    blocks, within = _two_level(offsets)
    assert within.typecode == ("H" if step * (1 << BLOCK_BITS) <= 0xFFFF else "I")
    assert [blocks[f >> BLOCK_BITS] + within[f] for f in range(size)] == list(offsets)
