"""Rows: what of each translation group the sentence encoder embeds.

One note per group (the encoder is multilingual: its translations would say the same again,
~4× the rows on a blog translated into eight languages), as rows: the title; one per section, its
heading path and the start of its passages (what the section is about); then one per fact, a list
item, a table row or a paragraph, alone (what a question about one example or one row is closest
to). On `questions_tldr_xlang.yaml` the facts' rows took the right page first by meaning alone from
about a third of the cross-language questions (a tldr page's 8 examples shared one section row) to
321 of 416 (`python -m bench.rows`, projected to 128 dimensions); a line that introduces a command
stands for the pair, as the command appended to it blurred it (201 of 416).
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..dense import TITLE_ROW
from ..inline import plain
from ..model import Note, NoteGroup

SECTION_CHARS = 250  # of a section's text: its start says what it is about; tokens cost time
PASSAGE_CHARS = 120  # of each passage added to a section's text
UNIT_CHARS = 160  # of one fact's own row: a list item, a table row, a paragraph's start
UNIT_KINDS = ("row", "item", "paragraph")  # the kinds of fact that get a row, the likeliest asked first
# Of one note. Dev found stays flat with the cap (issue 17's first closing note, each with its gate refit: 176 of
# 210 at 8, 177 at 16 and uncapped); gen45k rows: 379k at 8, 518k at 16, 753k uncapped (bench.scale).
MAX_FACT_ROWS = 8
MIN_UNIT_WORDS = 3  # shorter pieces ("Yes", a bare link) say nothing alone
INTRODUCING = (":", "：")  # a passage ending so introduces the next: its meaning holds for both
# Changes whenever the rows would: the cache's rows of another recipe are embedded again.
RECIPE = f"sections-{SECTION_CHARS}-{PASSAGE_CHARS}/units-{UNIT_CHARS}-{MAX_FACT_ROWS}/one-per-group/v6"


@dataclass(frozen=True)
class NoteRows:
    """What one note contributes: the texts to embed and the passage each row starts at."""

    texts: tuple[str, ...]
    passages: tuple[int, ...]  # local passage index of each row's first passage (TITLE_ROW for the title)


def embedded_note(group: NoteGroup) -> Note | None:
    """The note of a group that is embedded: its original (else English, else the first) with passages;
    None for a group a reload emptied."""
    if not group.notes:
        return None
    original = group.original
    if original.passages:
        return original
    return next((note for note in group.notes if note.passages), None)


def embedded_notes(groups: Iterable[NoteGroup]) -> list[Note]:
    return [note for note in map(embedded_note, groups) if note is not None]


def note_rows(note: Note) -> NoteRows:
    """The title, then one row per section: its heading path and the start of its passages."""
    texts = [note.title]
    starts = [TITLE_ROW]
    current: tuple[str, ...] | None = None
    pieces: list[str] = []
    start = 0

    def close() -> None:
        body = [p for p in pieces[1:] if p]
        if body:
            texts.append(" ".join(pieces)[:SECTION_CHARS])
            starts.append(start)

    for i, passage in enumerate(note.passages):
        if passage.kind == "heading" or passage.section != current:
            close()
            current = passage.section
            pieces = [" / ".join(passage.section) if passage.section else note.title]
            start = i
        if passage.kind != "heading":
            pieces.append(plain(passage.text)[:PASSAGE_CHARS])  # the words: markers would take their room
    close()
    # Then one row per fact: a question about one list item or table row is closest to that row alone.
    # Alone: a command or code after an item that introduces it only blurs what the item says
    # (bench/rows.py: appending it cost a third of the cross-language firsts); the answer shows it.
    # A section of one block has its row already (its heading and that block).
    sizes = Counter(p.section for p in note.passages if p.kind != "heading")
    facts: list[int] = []
    introduced = False
    for i, passage in enumerate(note.passages):
        if passage.kind in UNIT_KINDS and len(passage.text.split()) >= MIN_UNIT_WORDS and not introduced \
                and sizes[passage.section] > 1:
            facts.append(i)
        introduced = passage.kind != "heading" and passage.text.rstrip().endswith(INTRODUCING)
    # A long note keeps its table rows and list items before its paragraphs (a paragraph's start is in its
    # section's row already): rows cost embedding time, memory and search time in proportion.
    if len(facts) > MAX_FACT_ROWS:
        kept = sorted(facts, key=lambda i: UNIT_KINDS.index(note.passages[i].kind))[:MAX_FACT_ROWS]
        facts = sorted(kept)
    for i in facts:
        texts.append(plain(note.passages[i].text)[:UNIT_CHARS])
        starts.append(i)
    return NoteRows(tuple(texts), tuple(starts))


def content_key(note: Note) -> str:
    """Rows depend on the note's text only: its content hash (or the text itself when it has none)."""
    if note.content_hash:
        return note.content_hash
    digest = hashlib.sha256(note.title.encode())
    for passage in note.passages:
        digest.update(passage.text.encode())
    return digest.hexdigest()
