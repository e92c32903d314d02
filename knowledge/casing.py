"""The usual case of the notes' names ("DeepSeek", "vLLM", "Kafka"), learned from the notes.

People type in chat in lower case. Two things read case: the sentence encoder ("is claude served
with vllm" sits far from the row that names Claude and vLLM) and the word search's idea of a name
(knowledge.text.name_terms). So a question is written back in the notes' own case before either
reads it: each word typed all in lower case that the notes usually write with capitals inside a
sentence takes that form. Learned from the words of the notes' paragraphs, items and table rows
(titles and headings are often in Title Case, and German writes every noun with a capital).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .columns import prose_texts
from .inline import code_spans, plain
from .model import NoteGroup
from .text import CAPITALISED_LANGUAGES, stop_words

SAMPLE_NOTES = 3000  # notes read to learn from, spread over the blog: names recur (a first question waits for it)
MIN_SEEN = 2  # a capitalised form seen once may be an accident of one sentence (a capital inside, "vLLM", is not)
USUAL_SHARE = 0.8  # of a word's occurrences in that form: a name is rarely written otherwise
TITLE_RUN = 3  # capitalised words in a row: a title ("Hybrid Architecture Meets Agentic Intelligence")
_WORD = re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*(?:[.+#-][A-Za-z0-9]+)*[+#]*(?!\w)")
_ENDS_SENTENCE = ".!?:;"


@dataclass(frozen=True)
class Casing:
    forms: dict[str, str] = field(default_factory=dict)  # lower-case word → its usual written form

    def apply(self, question: str) -> str:
        """The question with each all-lower-case word the notes write otherwise in their form
        (a word the asker wrote with a capital stays as written)."""
        if not self.forms:
            return question
        return _WORD.sub(lambda m: self._form(m.group()) if m.group().islower() else m.group(), question)

    def _form(self, word: str) -> str:
        known = self.forms.get(word)
        if known is not None or "-" not in word:
            return known or word
        return "-".join(self.forms.get(part, part) for part in word.split("-"))  # "lstm-zelle": LSTM-zelle


def learn_casing(groups: Iterable[NoteGroup]) -> Casing:
    """Words written with a capital inside a sentence more often than not, over a sample of the notes."""
    notes = [note for group in groups for note in group.notes if note.lang not in CAPITALISED_LANGUAGES]
    seen: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    starts: Counter[str] = Counter()  # capitalised where a capital says nothing: a sentence's start, a title
    for note in notes[::max(1, len(notes) // SAMPLE_NOTES)]:
        # A row's cells, not its header ("Provider/Model: …"): headers are labels, in Title Case.
        for text in prose_texts(note.passages):
            _count(plain(_without_code(text)), seen, forms, starts)
    stop = stop_words()
    learned = {}
    for word, counts in forms.items():
        form, count = counts.most_common(1)[0]
        inner = any(c.isupper() for c in form[1:])
        # Never written in lower case, its capitals at sentence starts back up the ones inside sentences
        # ("Dijkstra's algorithm …" three times, "… from Dijkstra" once).
        support = count + (starts[form] if count == seen[word] else 0)
        if (inner or support >= MIN_SEEN) and count >= USUAL_SHARE * seen[word] and word not in stop:
            learned[word] = form
    return Casing(learned)


def _count(text: str, seen: Counter[str], forms: dict[str, Counter[str]], starts: Counter[str]) -> None:
    matches = list(_WORD.finditer(text))
    titled = _title_case_runs(text, matches)
    for i, match in enumerate(matches):
        word = match.group()
        lower = word.lower()
        inner = any(c.isupper() for c in word[1:])
        # A capital that only starts a sentence, or a word of a title quoted in Title Case, says nothing
        # either way, so that occurrence is not counted at all; one inside a word ("vLLM", "DeepSeek") does.
        if word != lower and not inner and (i in titled or _starts_sentence(text, match.start())):
            starts[word] += 1
            continue
        seen[lower] += 1
        if word != lower:
            forms.setdefault(lower, Counter())[word] += 1


def _without_code(text: str) -> str:
    """The text with its code spans blanked: `gradle build` is a command, cased as the shell needs it."""
    for start, end in reversed(code_spans(text)):
        text = text[:start] + " " + text[end:]
    return text


def _title_case_runs(text: str, matches: list[re.Match[str]]) -> set[int]:
    """Indices of words in runs of TITLE_RUN or more capitalised words next to each other."""
    titled: set[int] = set()
    run: list[int] = []
    for i, match in enumerate(matches):
        capital = any(c.isupper() for c in match.group())
        joined = bool(run) and not text[matches[run[-1]].end():match.start()].strip()
        if capital and (joined or not run):
            run.append(i)
            continue
        if len(run) >= TITLE_RUN:
            titled.update(run)
        run = [i] if capital else []
    if len(run) >= TITLE_RUN:
        titled.update(run)
    return titled


def _starts_sentence(text: str, start: int) -> bool:
    before = text[max(0, start - 16):start].rstrip()
    return (not before and start <= 16) or (bool(before) and before[-1] in _ENDS_SENTENCE)
