"""Openers: the sentences that frame a note rather than say anything ("Here's a script that…:",
"Let me break down…", "Would you like me to…?"), learned from the notes, with no list of phrases.

What marks them is where they stand and how often their shape recurs there: a note's first
sentence, its last, and the sentence that announces a list, code or sections (it ends in ":"
before them) are a note's frame. A lead (the first words of a sentence) that starts such a
frame sentence in many notes, and seldom starts any other sentence, is a framing shape; a
sentence that starts with it does not lead an answer. A lead that only starts many sentences
("If you…", "For example") is not one: it recurs as much inside the notes.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .inline import plain, sentence_spans
from .model import NoteGroup, Passage
from .text import fold

LEAD_WORDS = 2  # a sentence's shape: its first words ("here s", "let me", "aqui tienes")
MIN_NOTES = 4  # a framing shape frames this many notes (translation groups)…
LIFT = 3.0  # …and frames a note at least this many times as often as it starts another sentence
SAMPLE_NOTES = 3000  # notes read to learn (evenly spread): shapes recur across a blog, not in one note

_WORD = re.compile(r"[^\W_]+")
_ANNOUNCING = (":", "：")
_PROSE = ("paragraph", "item")


@dataclass(frozen=True)
class Openers:
    leads: frozenset[str]  # the framing shapes

    def frames(self, sentence: str) -> bool:
        """True when `sentence` starts the way the notes' frame sentences do."""
        return bool(self.leads) and lead(sentence) in self.leads


def lead(sentence: str) -> str | None:
    words = _WORD.findall(fold(plain(sentence)))[:LEAD_WORDS]
    return " ".join(words) if len(words) == LEAD_WORDS else None


def learn(groups: Sequence[NoteGroup]) -> Openers:
    """The framing shapes of a blog (a sample of its notes, in every language)."""
    notes = [(group.key, note) for group in groups for note in group.notes]
    framing: dict[str, set[str]] = {}
    other: Counter[str] = Counter()
    for key, note in notes[::max(1, len(notes) // SAMPLE_NOTES)]:
        for shape, frames in _leads(tuple(note.passages)):
            if frames:
                framing.setdefault(shape, set()).add(key)
            else:
                other[shape] += 1
    return Openers(frozenset(shape for shape, keys in framing.items()
                             if len(keys) >= MIN_NOTES and len(keys) >= LIFT * other[shape]))


def _leads(passages: Sequence[Passage]) -> list[tuple[str, bool]]:
    """(lead, is it a frame sentence) of each sentence of the note's prose."""
    body = [i for i, p in enumerate(passages) if p.kind != "heading"]
    if not body:
        return []
    first, last = body[0], body[-1]
    out: list[tuple[str, bool]] = []
    for i in body:
        passage = passages[i]
        if passage.kind not in _PROSE:
            continue
        spans = sentence_spans(passage.text)
        after = passages[i + 1].kind if i + 1 < len(passages) else ""
        for k, (start, end) in enumerate(spans):
            shape = lead(passage.text[start:end])
            if shape is None:
                continue
            paragraph = passage.kind == "paragraph"
            announces = k == len(spans) - 1 and after in ("item", "code", "heading") \
                and plain(passage.text[start:end]).rstrip().endswith(_ANNOUNCING)
            frames = paragraph and ((i == first and k == 0) or (i == last and k == len(spans) - 1) or announces)
            out.append((shape, frames))
    return out
