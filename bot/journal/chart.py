"""A small PNG bar chart of questions per day, written with zlib and struct.

A chart library (matplotlib: ~40 MB with its dependencies) for one bar chart in
one admin command does not earn its place; bars need no fonts, and the numbers
are in the embed beside the image. Each day is one bar: answered questions at
the bottom in blurple, unanswered on top in grey.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

BACKGROUND = (0x2B, 0x2D, 0x31)  # Discord's dark theme, so the image does not glare
ANSWERED = (0x58, 0x65, 0xF2)  # blurple, as the answers' embeds
UNANSWERED = (0x99, 0xAA, 0xB5)  # light grey, as "I don't know"
AXIS = (0x4E, 0x50, 0x58)


def png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """An 8-bit RGB PNG from `height` rows of 3 × `width` bytes each."""
    if len(rows) != height or any(len(row) != 3 * width for row in rows):
        raise ValueError("rows do not match the size")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit, truecolour, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bar_chart(days: Sequence[tuple[int, int]], *, height: int = 160, bar: int = 0, gap: int = 0,
              margin: int = 8) -> bytes:
    """PNG of one stacked bar per (asked, answered) pair, scaled so the highest bar fills the height."""
    if not days:
        raise ValueError("no days to draw")
    count = len(days)
    bar = bar or max(3, min(24, 480 // count))
    gap = gap or max(1, bar // 4)
    width = 2 * margin + count * bar + (count - 1) * gap
    plot = height - 2 * margin
    peak = max(asked for asked, _ in days) or 1
    pixels = [bytearray(bytes(BACKGROUND) * width) for _ in range(height)]

    def fill(x0: int, x1: int, y0: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(y0, y1):
            pixels[y][3 * x0 : 3 * x1] = bytes(colour) * (x1 - x0)

    baseline = height - margin
    fill(margin, width - margin, baseline, baseline + 1, AXIS)
    for i, (asked, answered) in enumerate(days):
        x = margin + i * (bar + gap)
        total = round(plot * asked / peak)
        low = round(plot * min(answered, asked) / peak)
        fill(x, x + bar, baseline - low, baseline, ANSWERED)
        fill(x, x + bar, baseline - total, baseline - low, UNANSWERED)
    return png(width, height, [bytes(row) for row in pixels])
