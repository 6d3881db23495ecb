"""The digest chart: daily spend stacked by tier, as PNG bytes, in pure Python.

No plotting library: matplotlib (with the numpy it needs) was ~175 MB of the install for one
bar chart a day. Bars, grid lines and a 5x7 bitmap font, encoded with zlib; ~10 ms a chart.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Mapping, Sequence
from datetime import date

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TIER_COLOURS = {"budget": "#4C9F70", "balanced": "#3C78B5", "premium": "#B5473C", "": "#999999"}
OTHER_COLOUR = "#777777"
WIDTH, HEIGHT = 800, 320
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 50, 40  # plot margins, px
SCALE = 2  # font pixels per glyph pixel
INK, GRID, WHITE = (0x33, 0x33, 0x33), (0xDD, 0xDD, 0xDD), (0xFF, 0xFF, 0xFF)

Colour = tuple[int, int, int]

# 5x7 glyphs, one string of five cells per row ("#" = ink). Lowercase is drawn as uppercase.
_GLYPHS = {
    "A": " ### |#   #|#   #|#####|#   #|#   #|#   #",
    "B": "#### |#   #|#   #|#### |#   #|#   #|#### ",
    "C": " ### |#   #|#    |#    |#    |#   #| ### ",
    "D": "#### |#   #|#   #|#   #|#   #|#   #|#### ",
    "E": "#####|#    |#    |#### |#    |#    |#####",
    "F": "#####|#    |#    |#### |#    |#    |#    ",
    "G": " ### |#   #|#    |# ###|#   #|#   #| ####",
    "H": "#   #|#   #|#   #|#####|#   #|#   #|#   #",
    "I": " ### |  #  |  #  |  #  |  #  |  #  | ### ",
    "J": "  ###|   # |   # |   # |   # |#  # | ##  ",
    "K": "#   #|#  # |# #  |##   |# #  |#  # |#   #",
    "L": "#    |#    |#    |#    |#    |#    |#####",
    "M": "#   #|## ##|# # #|# # #|#   #|#   #|#   #",
    "N": "#   #|#   #|##  #|# # #|#  ##|#   #|#   #",
    "O": " ### |#   #|#   #|#   #|#   #|#   #| ### ",
    "P": "#### |#   #|#   #|#### |#    |#    |#    ",
    "Q": " ### |#   #|#   #|#   #|# # #|#  # | ## #",
    "R": "#### |#   #|#   #|#### |# #  |#  # |#   #",
    "S": " ####|#    |#    | ### |    #|    #|#### ",
    "T": "#####|  #  |  #  |  #  |  #  |  #  |  #  ",
    "U": "#   #|#   #|#   #|#   #|#   #|#   #| ### ",
    "V": "#   #|#   #|#   #|#   #|#   #| # # |  #  ",
    "W": "#   #|#   #|#   #|# # #|# # #|# # #| # # ",
    "X": "#   #|#   #| # # |  #  | # # |#   #|#   #",
    "Y": "#   #|#   #| # # |  #  |  #  |  #  |  #  ",
    "Z": "#####|    #|   # |  #  | #   |#    |#####",
    "0": " ### |#   #|#  ##|# # #|##  #|#   #| ### ",
    "1": "  #  | ##  |  #  |  #  |  #  |  #  | ### ",
    "2": " ### |#   #|    #|   # |  #  | #   |#####",
    "3": "#####|   # |  #  |   # |    #|#   #| ### ",
    "4": "   # |  ## | # # |#  # |#####|   # |   # ",
    "5": "#####|#    |#### |    #|    #|#   #| ### ",
    "6": "  ## | #   |#    |#### |#   #|#   #| ### ",
    "7": "#####|    #|   # |  #  | #   | #   | #   ",
    "8": " ### |#   #|#   #| ### |#   #|#   #| ### ",
    "9": " ### |#   #|#   #| ####|    #|   # | ##  ",
    "$": "  #  | ####|# #  | ### |  # #|#### |  #  ",
    ".": "     |     |     |     |     | ##  | ##  ",
    ",": "     |     |     |     | ##  |  #  | #   ",
    "-": "     |     |     |#####|     |     |     ",
    "(": "   # |  #  | #   | #   | #   |  #  |   # ",
    ")": " #   |  #  |   # |   # |   # |  #  | #   ",
    "/": "     |    #|   # |  #  | #   |#    |     ",
    ":": "     | ##  | ##  |     | ##  | ##  |     ",
    "_": "     |     |     |     |     |     |#####",
}
_ADVANCE = 6 * SCALE  # glyph width plus one blank column


def _rgb(hex_colour: str) -> Colour:
    value = int(hex_colour.lstrip("#"), 16)
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(WHITE) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1:
            return
        row = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(row)] = row

    def text(self, x: int, y: int, text: str, colour: Colour = INK) -> None:
        for char in text.upper():
            rows = _GLYPHS.get(char, "").split("|")
            for dy, cells in enumerate(rows if rows != [""] else []):
                for dx, cell in enumerate(cells):
                    if cell == "#":
                        px, py = x + dx * SCALE, y + dy * SCALE
                        self.rect(px, py, px + SCALE, py + SCALE, colour)
            x += _ADVANCE

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        data = _chunk(b"IDAT", zlib.compress(raw, 6))
        return PNG_MAGIC + _chunk(b"IHDR", header) + data + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def text_width(text: str) -> int:
    return len(text) * _ADVANCE - SCALE


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 4, 6 or 8 x 10^k at or above `value`: an axis top whose quarters
    are round numbers."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _usd(value: float) -> str:
    if value >= 1 or value == 0:
        return f"${value:,.2f}"
    digits = f"{value:.6f}".rstrip("0")
    return "$" + (digits if len(digits.split(".")[1]) >= 2 else f"{value:.2f}")


def spend_chart(days: Sequence[date], series: Mapping[str, Sequence[int]], zone: str) -> bytes:
    """A stacked bar per day (US dollars), one colour per tier; unknown tier is grey."""
    canvas = _Canvas(WIDTH, HEIGHT)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    totals = [sum(values[i] for values in series.values()) / 1e9 for i in range(len(days))]
    top = nice_ceiling(max(totals, default=0.0))
    canvas.text(LEFT, 12, f"Spend per day by tier ({zone})")
    for step in range(5):  # grid lines and their dollar labels
        y = TOP + plot_h - round(plot_h * step / 4)
        canvas.rect(LEFT, y, LEFT + plot_w, y + 1, GRID if step else INK)
        label = _usd(top * step / 4)
        canvas.text(LEFT - 8 - text_width(label), y - 7, label)
    slot = plot_w / max(1, len(days))
    bar = max(2, int(slot * 0.7))
    for i, day in enumerate(days):
        x = LEFT + int(slot * i + (slot - bar) / 2)
        base = TOP + plot_h
        for tier, values in series.items():
            height = round(values[i] / 1e9 / top * plot_h)
            colour = _rgb(TIER_COLOURS.get(tier, OTHER_COLOUR))
            canvas.rect(x, base - height, x + bar, base, colour)
            base -= height
        label = f"{day:%d}"
        canvas.text(x + (bar - text_width(label)) // 2, TOP + plot_h + 8, label)
    x = WIDTH - RIGHT
    for tier in reversed(list(series)):  # legend, right-aligned under the title
        name = tier or "no tier"
        x -= text_width(name) + 30
        canvas.rect(x, 32, x + 12, 44, _rgb(TIER_COLOURS.get(tier, OTHER_COLOUR)))
        canvas.text(x + 18, 32, name)
    return canvas.png()
