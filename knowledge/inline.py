"""The inline markup a passage's text keeps: `code` and **bold**, written as Discord reads them.

The parser keeps these two (knowledge.markdown) because an answer shows them as the note did;
everything else inline is plain. The markers are punctuation to the tokenizer, so the search
sees the same words; what needs the words alone (the sentence encoder, checks on how a block
ends) reads `plain`. Cutting a piece out of a marked text goes through `excerpt`, which
closes what the cut leaves open and reopens what it starts inside.
"""
from __future__ import annotations

import re

__all__ = ["FULL_STOP", "code_span", "code_spans", "excerpt", "inside_code", "plain", "sentence_spans"]

# A code span as `code_span` writes it: a run of backticks, then the same run (content never holds it).
_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_BOLD = "**"
_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|(?<=[。！？；])")
FULL_STOP = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")  # sentences, a label's ":" not ending one


def code_span(content: str) -> str:
    """`content` as a code span: a backtick run longer than any inside, spaced when it starts or
    ends with a backtick (CommonMark and Discord strip one such space)."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{ticks}{pad}{content}{pad}{ticks}"


def code_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each code span of a marked text."""
    if "`" not in text:
        return []
    return [m.span() for m in _CODE.finditer(text)]


def inside_code(spans: list[tuple[int, int]], pos: int) -> bool:
    """True when a cut at `pos` would split one of the code spans."""
    return any(start < pos < end for start, end in spans)


def sentence_spans(text: str, ends: re.Pattern[str] = _SENTENCE_END) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a block's text (a clause after ":" or ";" counts as one
    unless `ends` is FULL_STOP), never split inside a code span."""
    spans = code_spans(text)
    out: list[tuple[int, int]] = []
    at = 0
    for m in ends.finditer(text):
        if inside_code(spans, m.start()):
            continue
        if text[at : m.start()].strip():
            out.append((at, m.start()))
        at = m.end()
    if text[at:].strip():
        out.append((at, len(text)))
    return out


def plain(text: str) -> str:
    """The words of a marked text, markers removed."""
    if "`" not in text and _BOLD not in text:
        return text
    out, at = [], 0
    for start, end in code_spans(text):
        out.append(text[at:start].replace(_BOLD, ""))
        out.append(_CODE.match(text, start).group(2).strip(" ") or " ")  # type: ignore[union-attr]
        at = end
    out.append(text[at:].replace(_BOLD, ""))
    return "".join(out)


def excerpt(text: str, start: int, end: int) -> str:
    """text[start:end] with its markup whole: a code span the cut would split is taken whole, and
    bold that the piece starts or ends inside is reopened or closed."""
    spans = code_spans(text)
    for span_start, span_end in spans:
        if span_start < start < span_end:
            start = span_start
        if span_start < end < span_end:
            end = span_end
    open_before = _bold_open_at(text, spans, start)
    piece = text[start:end]
    open_after = _bold_open_at(text, spans, end)
    lead = tail = ""
    if open_before:  # a piece that starts at the closing marker has no bold left at its start
        piece, lead = (piece[len(_BOLD):], "") if piece.startswith(_BOLD) else (piece, _BOLD)
    piece = piece.rstrip()
    if open_after:  # likewise a piece that ends at an opening marker
        piece, tail = (piece[: -len(_BOLD)], "") if piece.endswith(_BOLD) else (piece, _BOLD)
    return (lead + piece.strip() + tail).strip()


def _bold_open_at(text: str, spans: list[tuple[int, int]], pos: int) -> bool:
    """True when bold is open at `pos` (an odd count of markers before it, outside code)."""
    count, at = 0, 0
    for span_start, span_end in [*spans, (len(text), len(text))]:
        if at >= pos:
            break
        count += text.count(_BOLD, at, min(span_start, pos))
        at = span_end
    return count % 2 == 1
