"""What a fact's sentence row should hold, measured by meaning alone on the tldr cross-language questions.

    .venv/bin/python -m bench.rows

Over the blog sample plus every tldr page (one note per translation group, as the engine embeds),
each note becomes its title row plus one row per fact (list item, table row, paragraph), in two
recipes: the fact alone, or a line that introduces a command ("Download a file:") with the command
appended. Each `questions_tldr_xlang.yaml` question is embedded and the notes ranked by their best
row's cosine: raw 512-wide vectors and projected to 128 and 256 dimensions (knowledge.indexing.projection).
Prints, per recipe and width, how often the expected page is first and among the first ten. This is
the sentence model alone: no word search, no gate (those are score.py's figures).
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np

from knowledge.encoder import load_encoder
from knowledge.indexing.embedding import embed_texts
from knowledge.indexing.grouping import group_translations
from knowledge.indexing.projection import fit_projection
from knowledge.indexing.rows import INTRODUCING, MIN_UNIT_WORDS, UNIT_CHARS, UNIT_KINDS, embedded_notes
from knowledge.notes import load_notes

from .generate import REAL_CORPUS
from .scoring import SHARED, load_questions

QUESTIONS = SHARED / "eval" / "questions_tldr_xlang.yaml"
TLDR_ALL = SHARED / "corpus" / "tldr-all" / "notes"


def recipes(notes) -> tuple[list[str], list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    """(facts alone, facts with the command they introduce appended, the note of each row)."""
    alone, joined, owner = [], [], []
    for n, note in enumerate(notes):
        alone.append(note.title)
        joined.append(note.title)
        owner.append(n)
        passages, skip = note.passages, -1
        for i, passage in enumerate(passages):
            if i == skip or passage.kind not in UNIT_KINDS:
                continue
            text = with_next = passage.text
            if text.rstrip().endswith(INTRODUCING) and i + 1 < len(passages) and passages[i + 1].kind != "heading":
                with_next, skip = f"{text} {passages[i + 1].text}", i + 1
            if len(with_next.split()) < MIN_UNIT_WORDS:
                continue
            alone.append(text[:UNIT_CHARS])
            joined.append(with_next[:UNIT_CHARS])
            owner.append(n)
    return alone, joined, np.asarray(owner)


def ranks(rows: np.ndarray, asked: np.ndarray, owner: np.ndarray, keys: list[str], questions: list[dict]) -> Counter:
    rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    asked = asked / np.linalg.norm(asked, axis=1, keepdims=True)
    found: Counter = Counter()
    for q, scores in zip(questions, asked @ rows.T):
        best = np.full(len(keys), -9.0)
        np.maximum.at(best, owner, scores)
        top = [keys[i] for i in np.argsort(-best)[:10]]
        found[f"{q['kind']} first"] += top[0] == q["expect"]
        found[f"{q['kind']} top 10"] += q["expect"] in top
    return found


def main() -> None:
    encoder = load_encoder()
    encoder.load()
    notes = embedded_notes(group_translations(load_notes([REAL_CORPUS, TLDR_ALL]).notes))
    questions = load_questions(QUESTIONS)
    asked = encoder.encode([q["q"] for q in questions])
    alone, joined, owner = recipes(notes)
    keys = [note.key for note in notes]
    print(f"{len(notes)} notes, {len(alone)} rows; {len(questions)} questions")
    for name, texts in (("fact alone", alone), ("fact + command", joined)):
        started = time.perf_counter()
        raw = embed_texts(encoder, texts, 2, None)
        print(f"{name}: embedded in {time.perf_counter() - started:.0f} s")
        print(f"  raw 512: {dict(ranks(raw, asked, owner, keys, questions))}")
        for width in (128, 256):
            projection = fit_projection(raw, width)
            print(f"  projected {width}: "
                  f"{dict(ranks(projection.apply(raw), projection.apply(asked), owner, keys, questions))}")


if __name__ == "__main__":
    main()
