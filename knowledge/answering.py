"""Search result → Answer: choose the asker's translation, align the passage, cut it short.

The passage found may be in any language; the answer text comes from the same place
(same section, same table row) of the note's translation in the asker's language when
there is one, else from the fallback languages in order (default English, then the
note's original). Yes/no questions about a table fact lead with the table's value.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .dense import TITLE_ROW
from .index import Index
from .inline import FULL_STOP, code_spans, excerpt, inside_code, plain, sentence_spans
from .listing import excerpt_lines
from .model import Answer, Closest, Note, NoteGroup, Outcome, Passage, Source
from .openers import Openers
from .question_forms import asks_for_everything, asks_for_list, overview_subject
from .search import SearchResult
from .text import fold, terms

MAX_ANSWER_CHARS = 500
# A sentence is shown whole even past MAX_ANSWER_CHARS up to this length: well under Discord's 2000
# characters a message (and 4096 an embed), with room for the sources. Only a longer one is cut.
WHOLE_SENTENCE_CHARS = 1500
LONGEST_ANSWER_CHARS = 1800  # an answer's text is never longer: one Discord message, with its source line
MAX_CODE_SNIPPET = 300
NO_OPENERS = Openers(frozenset())
MIN_PIECE_CHARS = 40
SENTENCE_SLACK = 200  # the last block may run past MAX_ANSWER_CHARS by this much: whole, not cut mid-sentence
FOLLOW_SHARE = 0.4  # a following block this close to the best match's score is part of the answer
RUNNER_UP_SHARE = 0.85  # another block this close is shown too: the fact may be in either
NEIGHBOUR_SHARE = 0.3
NAME_BOOST = 1.5
LOCAL_SHARE = 0.6  # the asker's translation answers from its own best match when it is this close
SHORT_PASSAGE_CHARS = 80
SHORT_PARENT_CHARS = 80  # the parser gives a nested item its parent's text up to this length
CODE_LINES = 3
LEAD_IN_CHARS = 200  # of a block that introduces code or a list, its end (the sentences before it)
SUGGESTIONS = 3
NOT_SURE_CHARS = 300  # an offer is the closest unit, short: whole lines of the answer up to this
# "Did you mean" keeps a note only this close to the best one's score (a share of it), and, with sentence
# vectors on, only from this score up (a cosine plus a share of the word score; search.search). Measured
# on the dev questions the gate declines (bench/outcomes.py): with one sentence row per fact (8 a note) the
# right note stays in 28 of 30 lists (as with no absolute floor), and the unanswerable questions' lists
# shrink from 87 titles to 36 (5 of them empty); 0.45 would lose two right notes.
SUGGESTION_SHARE = 0.8
SUGGESTION_FLOOR = 0.40
DEFINING_WITHIN = 12  # passages from the top where a note says what its subject is
DEFINING_CHARS = 120  # a defining sentence names its subject this early
CLOSEST_SECTIONS = 2  # sections whose blocks are compared with a question asked in another language
CLOSEST_PASSAGES = 8  # blocks of each (embedding them costs about 1 ms each)
PASSAGE_TEXT_CHARS = 300
LINK_ITEM_CHARS = 160
WORDS_SHARE = 0.2  # of the block's word score (over the note's best), beside its cosine
ASKING_PENALTY = 0.1  # cosine taken from a block that ends with a question to the reader
LISTED_MIN = 3  # rows or items: fewer is not a list worth giving whole
LISTED_LINE_CHARS = 80  # each entry of a whole table or list, cut to this

Similarity = Callable[[list[str]], np.ndarray]

_YES = frozenset(["yes", "si", "oui", "ja", "sim", "да", "是", "是的", "はい", "예", "네", "نعم", "हाँ", "हां", "✅", "✔",
                  "true"])
_NO = frozenset(["no", "non", "nein", "nao", "нет", "否", "不", "いいえ", "아니요", "아니오", "لا", "नहीं", "❌", "✗",
                 "false"])
# A question with one of these asks for a value, not a yes or no.
_WH_WORDS = frozenset(
    """what which how who whom whose when where why qué cuál cual cuáles cuales cómo quién quien
    cuándo cuando dónde donde cuánto cuanto cuántos cuantos quel quelle quels quelles comment combien
    pourquoi où qui quoi was wie welche welcher welches wer wann wo warum wieviel cosa come quale quali
    chi quando dove perché perche qual quais quem что как почему где когда кто какой какая какие сколько
    ما ماذا كيف لماذا متى أين كم""".split()
)
_WH_CJK = ("什么", "怎么", "哪", "为什么", "為什麼", "多少", "如何", "谁", "誰", "几", "幾", "何",
           "どう", "なぜ", "いつ", "どこ", "どれ", "どの",
           "무엇", "어떻게", "왜", "언제", "어디", "누구", "몇")
_ASKING = ("?", "？", "؟")
_NUMBERED = re.compile(r"\d+[.)]\s")
_ANNOUNCING = (":", "：")
_SENTENCE_MARKS = (".", "!", "?", ":", "。", "！", "？", "：", "؟")


@dataclass(frozen=True)
class AnswerOptions:
    """The part of EngineOptions that composing an answer needs (no defaults of its own)."""

    fallback_languages: tuple[str, ...]
    base_url: str | None
    min_confidence: float
    not_sure_confidence: float  # from here up to min_confidence: "not sure", the closest passage offered


def compose(index: Index, result: SearchResult, question: str, language: str, options: AnswerOptions,
            similarity: Similarity | None = None) -> Answer:
    """An answer above the gate (`min_confidence`); below it, "not sure" with the closest passage
    when the confidence is still `not_sure_confidence` or more, else "I don't know".
    `similarity(texts)`: the question's cosine with each text (sentence vectors), or None."""
    verdict = decide(index, result, language, options)
    if verdict.outcome is Outcome.UNKNOWN:
        return Answer(
            question=question, language=language, answered=False, text="", answer_language=language,
            score=round(result.confidence, 4), suggestions=_suggestions(index, result, language),
            covered=verdict.covered, absent=_as_written(result.absent_names, question) if verdict.covered else (),
            covered_title=verdict.covered_title,
        )
    answer = _best_answer(index, result, question, language, options, similarity)
    return answer if verdict.outcome is Outcome.ANSWERED else not_sure(answer)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    # "I don't know" about a name the best note, a table, lacks: the names it does list, and its title.
    covered: tuple[str, ...] = ()
    covered_title: str = ""


def decide(index: Index, result: SearchResult, language: str, options: AnswerOptions) -> Verdict:
    """What becomes of a search, before any answer text is made."""
    best = result.best
    if best is None:
        return Verdict(Outcome.UNKNOWN)
    if result.confidence >= options.min_confidence:
        return Verdict(Outcome.ANSWERED)
    covered, title = (), ""
    if result.absent_names:
        listed = pick_translation(index.groups[best.group], language, options.fallback_languages,
                                  index.note_of(best.passage))
        covered, title = table_subjects(listed), listed.title
    if not covered and result.confidence >= options.not_sure_confidence:
        # A note that lacks the name asked about ("covered") is a known miss, said as such: never offered.
        return Verdict(Outcome.NOT_SURE)
    return Verdict(Outcome.UNKNOWN, covered, title)


def _best_answer(index: Index, result: SearchResult, question: str, language: str, options: AnswerOptions,
                 similarity: Similarity | None) -> Answer:
    """The answer the best note gives, whatever the confidence."""
    best = result.best
    assert best is not None
    note = pick_translation(index.groups[best.group], language, options.fallback_languages,
                            index.note_of(best.passage))
    start = first_passage(index, result, note, question, language, similarity)
    return answer_at(index, result, note, start, question, language, options)


def not_sure(answer: Answer) -> Answer:
    """`answer` turned into an offer: not answered, its text and source kept as the closest passage."""
    closest = Closest(text=shortened(answer.text, NOT_SURE_CHARS), source=answer.sources[0], section=answer.section)
    return Answer(question=answer.question, language=answer.language, answered=False, text="",
                  answer_language=answer.language, score=answer.score, closest=closest)


def shortened(text: str, limit: int) -> str:
    """Whole lines of `text` up to `limit` characters (the first always), a code block cut in its
    middle closed, and "…" where lines were left out."""
    lines = text.split("\n")
    kept: list[str] = []
    size = 0
    in_code = False
    for line in lines:
        if kept and size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
        if line.lstrip().startswith("```"):
            in_code = not in_code
    if len(kept) == len(lines):
        return text
    if in_code:
        kept.append("```")
    return "\n".join([*kept, "…"])


def first_passage(index: Index, result: SearchResult, note: Note, question: str, language: str,
                  similarity: Similarity | None = None) -> int:
    """Where in `note` (any translation of the note found) the block that answers is."""
    scores = _scores_in(index, result, note)
    if result.best is None:
        return int(np.argmax(scores)) if scores.size else 0
    start = choose_passage(index, result, note, scores, result.best.passage, question)
    if similarity is not None and note.lang != language:
        # Asked in another language: its words cannot say which block answers, its meaning can.
        start = closest_passage(index, result, note, scores, similarity, start)
    return start


def answer_at(index: Index, result: SearchResult, note: Note, start: int, question: str, language: str,
              options: AnswerOptions) -> Answer:
    """The answer `note` gives from its passage at `start`, shaped by the question's form
    ("what is X?", "which …?", "what … are there?")."""
    scores = _scores_in(index, result, note)
    text = None
    subject = overview_subject(question, language)
    if subject is not None:
        defining = defining_passage(note, subject)
        if defining is not None:
            start, text = defining, _opening(note.passages[defining].text, index.openers)
    elif asks_for_list(question, language):
        row = start if note.passages[start].kind == "row" else _table_asked_about(note, question)
        text = grouped_rows(note, row, question) if row is not None else None
        start = row if text else start
    if text is None and subject is None and asks_for_everything(question, language):
        listed = listed_entries(note, start, question, scores)
        if listed is not None:
            start, text = listed
    passage = note.passages[start]
    return Answer(
        question=question,
        language=language,
        answered=True,
        text=text or answer_text(note, start, question, scores.tolist(), index.openers),
        answer_language=note.lang,
        sources=(source_of(note, options.base_url),),
        score=round(result.confidence, 4),
        section=(*passage.section, passage.text) if passage.kind == "heading" else passage.section,
    )


def _scores_in(index: Index, result: SearchResult, note: Note) -> np.ndarray:
    """The word-search score of each passage of `note` (zeros when the question had no words to
    search), references at zero: they never start nor join an answer."""
    ids = index.passage_range(note)
    if result.scores is None:
        return np.zeros(ids.stop - ids.start)
    scores = result.scores[ids.start : ids.stop].astype(np.float64)
    scores[_references(note)] = 0.0
    return scores


def pick_translation(group: NoteGroup, language: str, fallbacks: tuple[str, ...], found: Note) -> Note:
    """The asker's language, else each fallback in order ("original" = the note's original language)."""
    for code in (language, *fallbacks):
        note = group.original if code == "original" else group.in_language(code)
        if note is not None and note.passages:
            return note
    return found


def choose_passage(index: Index, result: SearchResult, note: Note, scores: np.ndarray, found: int,
                   question: str) -> int:
    """Which passage of `note` to answer from (its position): its own best match (a passage
    scores a little for matching the block after it, since a fact often spans two) when it
    is nearly as good as the best match anywhere, else the passage aligned with that one."""
    own = scores.copy()
    if result.name_scores is not None:
        # Inside a note, the block about the named thing ("DeepSeek") is the answer, more than
        # one that shares other words of the question.
        ids = index.passage_range(note)
        own += (NAME_BOOST - 1.0) * result.name_scores[ids.start : ids.stop]
    own[_references(note)] = 0.0  # the names' share too
    smoothed = own.copy()
    smoothed[:-1] += NEIGHBOUR_SHARE * own[1:]  # the answer reads on into the next block
    local = int(np.argmax(smoothed))
    if own[local] <= 0:  # no word of the question in this note (asked in another language): where meaning led
        return found - index.passage_range(note).start if index.note_of(found) is note else \
            align(index.passage(found), note, question)
    if index.note_of(found) is note or own[local] >= LOCAL_SHARE * float(result.scores[found]):
        return local
    return align(index.passage(found), note, question)


def closest_passage(index: Index, result: SearchResult, note: Note, scores: np.ndarray,
                    similarity: Similarity, fallback: int) -> int:
    """The block of the note's closest sections that is closest in meaning to the question
    (the words it shares, names mostly, count a little). The sections are those of the group's
    embedded note whose rows are closest; a translation has the same sections in the same order."""
    dense = index.dense
    if dense is None or result.row_scores is None:
        return fallback
    group = index.groups[int(index.note_group[index.note_ids[note.path]])]
    rows = dense.rows_of([index.note_ids[n.path] for n in group.notes])
    rows = rows[dense.row_passage[rows] != TITLE_ROW]
    if rows.size == 0:
        return fallback
    embedded = index.notes[int(dense.row_note[rows[0]])]
    best_rows = rows[np.argsort(-result.row_scores[rows])[:CLOSEST_SECTIONS]]
    sections = [embedded.passages[int(dense.row_passage[row])].position[0] for row in best_rows.tolist()]
    candidates: list[int] = []
    for section in sections:
        candidates += [i for i, p in enumerate(note.passages) if p.position[0] == section
                       and p.kind != "heading" and not _link_only(p)][:CLOSEST_PASSAGES]
    if fallback not in candidates:
        candidates.append(fallback)  # where the words led stays in the running
    meaning = similarity([plain(note.passages[i].text)[:PASSAGE_TEXT_CHARS] for i in candidates])
    top = float(scores.max()) if scores.size else 0.0
    words = np.array([scores[i] / top if top > 0 else 0.0 for i in candidates])
    # A block that ends by asking the reader something ("Want me to explain …?") offers, it does not answer.
    asking = np.array([plain(note.passages[i].text).rstrip().endswith(_ASKING) for i in candidates], dtype=float)
    return candidates[int(np.argmax(meaning + WORDS_SHARE * words - ASKING_PENALTY * asking))]


def defining_passage(note: Note, subject: str) -> int | None:
    """The paragraph that says what the note's subject is: the first one that names it near its
    start (else the first that names it at all), when the note is about that subject."""
    wanted = set(terms(subject, prefixes=False))
    if not wanted or not wanted <= set(terms(note.title, prefixes=False)) | _early_terms(note):
        return None
    named_late = None
    for i, passage in enumerate(note.passages[:DEFINING_WITHIN]):
        if passage.kind != "paragraph":
            continue
        if wanted <= set(terms(plain(passage.text)[:DEFINING_CHARS], prefixes=False)):
            return i
        if named_late is None and wanted <= set(terms(passage.text, prefixes=False)):
            named_late = i
    return named_late


def _early_terms(note: Note) -> set[str]:
    return {t for p in note.passages[:DEFINING_WITHIN] if p.kind in ("heading", "paragraph")
            for t in terms(plain(p.text)[:DEFINING_CHARS], prefixes=False)}


def _opening(text: str, openers: Openers = NO_OPENERS) -> str:
    """The first sentences of a paragraph (past those that only frame the note): enough to define
    (DEFINING_CHARS), no more."""
    spans = sentence_spans(text)
    first = _first_saying(text, spans, openers)
    if not spans:
        return text
    end = first
    while spans[end][1] - spans[first][0] < DEFINING_CHARS and end + 1 < len(spans) \
            and spans[end + 1][1] - spans[first][0] <= MAX_ANSWER_CHARS:
        end += 1
    return _whole(excerpt(text, spans[first][0], spans[end][1]))


def table_subjects(note: Note) -> tuple[str, ...]:
    """What the note's first table is about: its rows' first cells (nothing without a table)."""
    rows = [p for p in note.passages if p.kind == "row" and p.cells]
    if len(rows) < 2:
        return ()
    first = rows[0]
    return tuple(plain(p.cells[0]).strip() for p in rows if _table_of(p) == _table_of(first))


def _as_written(words: tuple[str, ...], question: str) -> tuple[str, ...]:
    """The question's own spelling of folded words ("groq" → "Groq")."""
    out = []
    for word in words:
        match = re.search(re.escape(word), question, flags=re.IGNORECASE)
        out.append(match.group() if match else word)
    return tuple(out)


def _table_asked_about(note: Note, question: str) -> int | None:
    """The first row of the first table whose header shares a word with the question."""
    asked = set(terms(question, prefixes=False))
    for i, passage in enumerate(note.passages):
        if passage.kind == "row" and asked & set(terms(" ".join(passage.header[1:]), prefixes=False)):
            return i
    return None


def grouped_rows(note: Note, start: int, question: str) -> str | None:
    """"Which … ?" over a table with a yes/no column: its rows grouped by that column's value,
    in the note's own words ("Yes: DeepSeek AI. No: Claude (Anthropic), OpenAI (GPT models)…")."""
    row = note.passages[start]
    rows = [p for p in note.passages if p.kind == "row" and _table_of(p) == _table_of(row)]
    if len(rows) < 2 or any(len(p.cells) < 2 for p in rows):
        return None
    asked = set(terms(question, prefixes=False))
    if any(asked & set(terms(p.cells[0], prefixes=False)) for p in rows):
        return None  # the question names a row: that row answers it
    columns = [c for c in range(1, len(row.header)) if all(c < len(p.cells) and _yes_no_cell(p.cells[c]) for p in rows)]
    if not columns:
        return None
    column = columns[0]
    groups: dict[str, list[str]] = {}
    for p in rows:
        value = re.split(r"[\s(（,.;:—-]", plain(p.cells[column]).strip(), maxsplit=1)[0]
        groups.setdefault(value, []).append(plain(p.cells[0]).strip())  # names in a sentence of ours: no row styling
    # The answer the question hopes for ("which … use it?") first: the yes group.
    ordered = sorted(groups.items(), key=lambda kv: fold(kv[0]) not in _YES)
    return " ".join(f"{value}: {', '.join(names)}." for value, names in ordered)


def listed_entries(note: Note, start: int, question: str, scores: np.ndarray) -> tuple[int, str] | None:
    """"What … are there?": the table or list that answers, whole, one short line per row or item
    (the one whose heading and header share most of the question's words, then the one holding the
    passage found, then the one matching it most). None when the question names one row: that row answers."""
    runs = _runs(note)
    asked = set(terms(question, prefixes=False))

    def fit(run: list[int]) -> tuple[int, bool, float]:
        first = note.passages[run[0]]
        label = " ".join((*first.section[-1:], *first.header))
        return (len(asked & set(terms(label, prefixes=False))), start in run,
                float(sum(scores[i] for i in run if i < scores.size)))

    run = max(runs, key=fit, default=None)
    if run is None or fit(run) == (0, False, 0.0):
        return None
    passages = [note.passages[i] for i in run]
    if passages[0].kind == "row" and any(set(terms(p.cells[0], prefixes=False)) <= asked
                                         for p in passages if terms(p.cells[0], prefixes=False)):
        return None
    lines: list[str] = []
    budget = MAX_ANSWER_CHARS
    for passage in passages:
        entry = _entry_text(passage)
        if len(entry) + 3 > budget:
            lines.append("- …")
            break
        lines.append("- " + entry)
        budget -= len(entry) + 3
    return run[0], "\n".join(lines)


def _runs(note: Note) -> list[list[int]]:
    """The note's tables (rows under one header) and lists (a section's items, nested ones left
    out: the parser starts them with their parent's text), as passage positions."""
    runs: dict[tuple, list[int]] = {}
    parents: dict[int, list[str]] = {}  # per list: every item's text, and without its own parent's
    lists = 0  # a paragraph, heading or table ends a list (code inside an item does not)
    for i, passage in enumerate(note.passages):
        if passage.kind == "row" and passage.cells:
            runs.setdefault(("row", _table_of(passage)), []).append(i)
        elif passage.kind == "item" and not _link_only(passage):
            seen = parents.setdefault(lists, [])
            if not any(passage.text.startswith(parent) for parent in seen):
                runs.setdefault(("item", lists), []).append(i)
            seen += [passage.text, passage.text.split(": ", 1)[-1]]
        if passage.kind in ("paragraph", "heading", "row"):
            lists += 1
    return [run for run in runs.values() if len(run) >= LISTED_MIN]


def _table_of(row: Passage) -> tuple:
    """Rows with the same key are one table: the same header, in the same block."""
    return row.header, row.position[:2]


def _entry_text(passage: Passage) -> str:
    """A row's first cells (the third only when short enough), an item's first sentence (whole)."""
    if passage.kind == "row":
        cells = [c.strip() for c in passage.cells if c.strip()]
        three = " — ".join(cells[:3])
        entry = three if len(plain(three)) <= LISTED_LINE_CHARS else " — ".join(cells[:2])
        return _trim(entry, LISTED_LINE_CHARS + len(entry) - len(plain(entry)))  # markers take no room on screen
    spans = sentence_spans(passage.text, FULL_STOP)
    return _whole(excerpt(passage.text, *spans[0])) if spans else passage.text


def _references(note: Note) -> list[int]:
    """Positions of the note's references (see _link_only)."""
    return [i for i, passage in enumerate(note.passages) if passage.links and _link_only(passage)]


def _link_only(passage: Passage) -> bool:
    """A reference: a link's title and nothing else (an item of a "further reading" list, or a
    line of link titles) never answers a question."""
    if not passage.links or passage.kind not in ("item", "paragraph"):
        return False
    text = plain(passage.text).rstrip()
    if passage.kind == "item":
        return len(text) <= LINK_ITEM_CHARS
    return len(text) <= LINK_ITEM_CHARS * len(passage.links) and not text.endswith(_SENTENCE_MARKS)


def source_of(note: Note, base_url: str | None) -> Source:
    url = None
    if base_url:
        permalink = note.meta.get("permalink")
        tail = str(permalink).lstrip("/") if permalink else re.sub(r"\.(md|markdown)$", "", note.rel_path)
        url = base_url.rstrip("/") + "/" + tail
    return Source(path=note.rel_path, title=note.title, lang=note.lang, url=url)


def _anchors(text: str) -> set[str]:
    """Language-neutral tokens a translation keeps: numbers, names, code, URLs."""
    return {t for t in terms(text, prefixes=False) if t.isascii()}


def align(source: Passage, target: Note, question: str) -> int:
    """The position of the passage of `target` that says what `source` says in another language."""
    src_anchors = _anchors(source.text)
    asked = set(terms(question, prefixes=False))

    def closeness(p: Passage) -> float:
        anchors = _anchors(p.text)
        shared = len(src_anchors & anchors) / (len(src_anchors | anchors) or 1)
        asked_hit = len(asked & set(terms(p.text, prefixes=False))) / (len(asked) or 1)
        distance = abs(p.position[0] - source.position[0]) + 0.2 * abs(p.position[1] - source.position[1])
        same_place = p.position == source.position and p.kind == source.kind
        return (shared + 0.5 * asked_hit + (0.3 if p.kind == source.kind else 0.0) + (0.8 if same_place else 0.0)
                - 0.05 * distance)

    return max(range(len(target.passages)), key=lambda i: closeness(target.passages[i]))


def is_yes_no_question(question: str) -> bool:
    lowered = question.casefold()  # accents kept: "qué" asks a value, "que" only links words
    if any(marker in lowered for marker in _WH_CJK):
        return False
    return not any(word in _WH_WORDS for word in re.findall(r"[^\W\d_]+", lowered)[:6])


def _yes_no_cell(cell: str) -> bool:
    head = re.split(r"[\s(（,.;:—-]", fold(plain(cell)).strip(), maxsplit=1)[0]
    return head in _YES or head in _NO


def answer_text(note: Note, start: int, question: str, scores: list[float] | None = None,
                openers: Openers = NO_OPENERS) -> str:
    """The passage at `start`, read on into the blocks after it while they still match the
    question (or while it only announces them: a heading, a short item, a line ending in ":").
    A heading alone never answers: the answer starts at the block under it."""
    if note.passages[start].kind == "heading" and start + 1 < len(note.passages) \
            and note.passages[start + 1].kind != "heading":
        if scores is not None:  # what the heading matched counts for the block that answers
            scores = list(scores)
            scores[start + 1] = max(scores[start + 1], scores[start])
        start += 1
    passage = note.passages[start]
    found = start  # the block that matched: what later blocks are compared with
    lead = _lead_in(note, start)
    if lead is not None and _frames_only(_last_sentences(note.passages[lead].text, LEAD_IN_CHARS, openers), openers):
        lead = None  # words that only frame the note ("Here's an example:") never lead: the code they announce does
    if lead is not None:  # code never comes first: the words that introduce it do
        passage, start = note.passages[lead], lead
    announces = lead is not None or _announces(passage)
    first = None if lead is not None else _passage_text(passage, question, MAX_ANSWER_CHARS, openers)
    if first is None or (announces and _crowds_out_what_it_announces(note, start, first)):
        # Words that introduce code, or a long paragraph ending "Here's why:" before its list:
        # their end is what introduces it.
        first = _last_sentences(passage.text, LEAD_IN_CHARS, openers)
    pieces = [(passage, first)]
    budget = MAX_ANSWER_CHARS - len(pieces[0][1])
    following = note.passages[start + 1 :]
    used = {start}
    sections = _announced_sections(note, start) if plain(passage.text).rstrip().endswith(_ANNOUNCING) else []
    for i in sections:  # "… these objectives include:" then a section per objective: their headings are the list
        piece = note.passages[i].text
        if len(piece) + 4 > budget:
            pieces.append((Passage("item", "…"), "…"))
            break
        pieces.append((Passage("item", piece), piece))
        used.add(i)
        budget -= len(piece) + 4
    for offset, nxt in enumerate(following if not sections else (), start=start + 1):
        if nxt.kind == "heading" or budget < MIN_PIECE_CHARS:
            break
        relevant = scores is not None and scores[found] > 0 and scores[offset] >= FOLLOW_SHARE * scores[found]
        if not (announces or relevant):
            break
        # The code a line announces is its point: fewer lines of it rather than none.
        piece = _passage_text(nxt, question, budget if announces else MAX_ANSWER_CHARS, openers)
        if len(piece) > budget + (0 if nxt.kind == "code" else SENTENCE_SLACK) or _label_only(nxt, piece):
            break
        pieces.append((nxt, piece))
        used.add(offset)
        budget -= len(piece)
        announces = _announces(nxt)
    second = _runner_up(scores, found, used) if not sections else None
    if second is not None and budget >= MIN_PIECE_CHARS and note.passages[second].kind != "heading":
        # Two blocks match almost equally: the fact may be in either, so show both (briefly).
        piece = _passage_text(note.passages[second], question, budget - 2, openers)
        if len(piece) <= budget - 2 + SENTENCE_SLACK and not _label_only(note.passages[second], piece):
            pieces.append((note.passages[second], piece))
            budget -= len(piece) + 2
            after = note.passages[second + 1] if second + 1 < len(note.passages) else None
            if after is not None and after.kind == "code" and plain(piece).rstrip().endswith(_ANNOUNCING):
                code = _passage_text(after, question, budget)
                if len(code) <= budget:
                    pieces.append((after, code))
    while len(pieces) > 1 and len(render_pieces(pieces)) > LONGEST_ANSWER_CHARS:
        pieces.pop()  # whole blocks go, never a cut one
    return render_pieces(pieces)


def _frames_only(text: str, openers: Openers) -> bool:
    spans = sentence_spans(text)
    return bool(spans) and all(openers.frames(text[slice(*span)]) for span in spans)


def _label_only(passage: Passage, piece: str) -> bool:
    """True when `piece` is only the label of an item ("`torch.min`:") whose words it leaves out."""
    return passage.kind == "item" and len(piece) < len(passage.text) and len(sentence_spans(piece)) == 1 \
        and plain(piece).rstrip().endswith(_ANNOUNCING)


def _crowds_out_what_it_announces(note: Note, start: int, piece: str) -> bool:
    """True when the block at `start`, shown as `piece`, leaves no room for the list, code or
    sections after it that it announces."""
    if start + 1 >= len(note.passages) or note.passages[start].kind != "paragraph":
        return False
    after = note.passages[start + 1]
    if after.kind not in ("item", "code", "heading") or after.section != note.passages[start].section:
        return False
    return MAX_ANSWER_CHARS - len(piece) < min(len(after.text), LEAD_IN_CHARS)


def _lead_in(note: Note, start: int) -> int | None:
    """The block just before a code block at `start` that introduces it (same section, text)."""
    if note.passages[start].kind != "code" or start == 0:
        return None
    before = note.passages[start - 1]
    if before.kind in ("paragraph", "item") and before.section == note.passages[start].section \
            and not _link_only(before):
        return start - 1
    return None


def _last_sentences(text: str, limit: int, openers: Openers = NO_OPENERS) -> str:
    """The end of a block, whole sentences up to `limit` (at least the last one), none that only
    frames the note unless it is all there is."""
    spans = sentence_spans(text)
    if not spans:
        return text
    first = len(spans) - 1
    while first > 0 and spans[-1][1] - spans[first - 1][0] <= limit:
        first -= 1
    saying = [k for k in range(first, len(spans)) if not openers.frames(text[slice(*spans[k])])]
    first = saying[0] if saying else first
    return _whole(excerpt(text, spans[first][0], spans[-1][1]))


def _first_saying(text: str, spans: list[tuple[int, int]], openers: Openers) -> int:
    """The first sentence that says something rather than frame the note (0 when all frame)."""
    return next((k for k, span in enumerate(spans) if not openers.frames(text[slice(*span)])), 0)


def _announced_sections(note: Note, start: int) -> list[int]:
    """The headings of the sections a block announces: the headings right after it at the level of
    the first one (a level deeper when that one stands alone: a title over the sections), numbered
    ones only when the first is numbered ("1. …", "2. …", not the "Summary" after them)."""
    passages = note.passages
    first = start + 1
    if first >= len(passages) or passages[first].kind != "heading":
        return []
    found = _sibling_headings(passages, first)
    if len(found) == 1:
        deeper = next((i for i in range(first + 1, len(passages)) if passages[i].kind == "heading"), None)
        if deeper is not None and len(passages[deeper].section) > len(passages[first].section):
            found = _sibling_headings(passages, deeper)
    return found if len(found) >= LISTED_MIN else []


def _sibling_headings(passages: tuple[Passage, ...], first: int) -> list[int]:
    level = passages[first].section
    numbered = _NUMBERED.match(passages[first].text) is not None
    found = []
    for i in range(first, len(passages)):
        p = passages[i]
        if p.kind != "heading":
            continue
        if p.section[: len(level)] != level:
            break  # a shallower heading: the announced sections are over
        if p.section == level:
            if numbered and not _NUMBERED.match(p.text):
                break
            found.append(i)
    return found


def render_pieces(pieces: list[tuple[Passage, str]]) -> str:
    """Markdown that keeps the blocks' shape: items stay a list (a nested item once, under its
    parent, without the parent's words repeated), code stays fenced, each block on its own line."""
    lines: list[str] = []
    shown_items: list[str] = []  # texts of the items shown so far, innermost last
    for passage, text in pieces:
        text = text.strip()
        if not text:
            continue
        if passage.kind == "item":
            nested, text = _without_parent(text, shown_items)
            shown_items.append(text)
            lines.append(("  - " if nested else "- ") + text)
        elif passage.kind == "row" and len(pieces) > 1:
            lines.append("- " + text)
        elif passage.kind == "heading":
            lines.append(f"**{text}**")
        else:
            lines.append(text)
    # A label taken out may leave the nested items' own shared label: a level each pass, until none is left.
    while (nested := _parents_once(lines)) != lines:
        lines = nested
    lines = _once(lines)
    if len(lines) == 1 and lines[0].startswith("- "):
        return lines[0][2:]  # one item alone reads as a sentence
    return "\n".join(lines).strip()


def _parents_once(lines: list[str]) -> list[str]:
    """Sibling items that each carry their parent's words ("- P: a", "- P: b") → "- P:" with
    "a" and "b" nested under it, at any depth (a code block between two of them stays, under the first)."""
    out: list[str] = []
    parent = None
    for i, line in enumerate(lines):
        if line.startswith("```") and parent is not None:
            out.append(line)  # the code of the item before: the siblings may go on after it
            continue
        prefix = _item_prefix(line)
        nxt = next((_item_prefix(later) for later in lines[i + 1:] if not later.startswith("```")), None)
        if prefix is not None and (prefix == parent or prefix == nxt):
            indent, head = prefix
            if prefix != parent:
                out.append(f"{indent}- {head}:")
                parent = prefix
            out.append(f"{indent}  - " + line[len(indent) + len(head) + 4:].lstrip())
            continue
        parent = None
        out.append(line)
    return out


def _once(lines: list[str]) -> list[str]:
    """Each line once (outside code): a parent item may also be found as a block of its own."""
    seen: set[str] = set()
    out: list[str] = []
    for line in lines:  # a code block is one entry, kept as it is
        key = line.strip().lstrip("-* ").rstrip(":： ")
        if "```" not in line and key and key in seen:
            continue
        seen.add(key)
        out.append(line)
    return out


def _item_prefix(line: str) -> tuple[str, str] | None:
    """(indent, label) of a list line that reads "- label: text"."""
    indent = line[: len(line) - len(line.lstrip(" "))]
    if not line.startswith("- ", len(indent)):
        return None
    head, sep, rest = line[len(indent) + 2:].partition(": ")
    return (indent, head) if sep and rest and len(head) <= SHORT_PARENT_CHARS else None


def _without_parent(text: str, shown: list[str]) -> tuple[bool, str]:
    """A nested item's text begins with its parent's (the parser gives it that context for search)."""
    for parent in reversed(shown):
        candidates = {parent, parent.split(": ", 1)[-1]}
        for prefix in sorted(candidates, key=len, reverse=True):
            for sep in (": ", " ", ""):
                head = prefix + sep
                if len(text) > len(head) + 1 and text.startswith(head) and (sep or prefix[-1:] in ":："):
                    return True, text[len(head):].lstrip()
    return False, text


def _runner_up(scores: list[float] | None, start: int, used: set[int]) -> int | None:
    if scores is None or scores[start] <= 0:
        return None
    others = [i for i in range(len(scores)) if i not in used]
    if not others:
        return None
    best = max(others, key=lambda i: scores[i])
    return best if scores[best] >= RUNNER_UP_SHARE * scores[start] else None


def _announces(passage: Passage) -> bool:
    text = plain(passage.text).rstrip()
    return passage.kind == "heading" or len(text) < SHORT_PASSAGE_CHARS or text.endswith(_ANNOUNCING)


def _passage_text(passage: Passage, question: str, limit: int, openers: Openers = NO_OPENERS) -> str:
    if passage.kind == "code":
        return _code_lines(passage, question, limit)
    if passage.kind == "row" and passage.cells:
        return _row_text(passage, question)
    return _best_sentences(passage.text, question, limit, openers)


def _row_text(passage: Passage, question: str) -> str:
    cells = [c.strip() for c in passage.cells]
    header = list(passage.header) + [""] * max(0, len(cells) - len(passage.header))
    verdict = next((i for i, c in enumerate(cells) if i > 0 and _yes_no_cell(c)), None)
    if verdict is not None and is_yes_no_question(question):
        rest = [c for i, c in enumerate(cells) if i not in (0, verdict) and c]
        detail = max(rest, key=len) if rest else cells[0]
        return _whole(f"{cells[verdict]} — {detail}")
    parts = []
    for i, cell in enumerate(cells[1:], start=1):
        if not cell:
            continue
        label = header[i].strip()
        parts.append(f"{label}: {cell}" if label and len(cell) <= 40 else cell)
    return _whole(f"{cells[0]} — " + " — ".join(parts) if parts else cells[0])


def _code_lines(passage: Passage, question: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """A code block never answers alone: it shows the line that matches the question best and the
    whole construct around it, then a few more (knowledge.listing), fenced in the note's language."""
    lines = [line.rstrip() for line in passage.text.splitlines() if line.strip()]
    if not lines:
        return ""
    fence = f"```{passage.fence}\n", "\n```"
    room = min(limit, MAX_CODE_SNIPPET) - len(fence[0]) - len(fence[1])
    shown = excerpt_lines(lines, _best_match(lines, question), room, CODE_LINES)  # a comment names what follows
    return fence[0] + "\n".join(shown) + fence[1]


def _best_match(pieces: list[str], question: str) -> int:
    """The first of the pieces that shares the most terms with the question."""
    asked = set(terms(question))
    shared = [len(asked & set(terms(piece))) for piece in pieces]
    return max(range(len(pieces)), key=lambda i: (shared[i], -i))


def _best_sentences(text: str, question: str, limit: int = 0, openers: Openers = NO_OPENERS) -> str:
    """The sentence that matches the question best, first, then the sentences after it up to the
    limit (never those before it: the answering sentence leads; nor one that only frames the note).
    Whole sentences: one longer than the limit is shown whole (see WHOLE_SENTENCE_CHARS)."""
    limit = limit or MAX_ANSWER_CHARS
    spans = sentence_spans(text)
    framing = [openers.frames(text[slice(*span)]) for span in spans]
    if len(text) <= limit and not any(framing):
        return text
    if not spans:
        return _whole(text)
    leads = [k for k in range(len(spans)) if not framing[k]] or list(range(len(spans)))
    best = end = leads[_best_match([text[slice(*spans[k])] for k in leads], question)]
    while end + 1 < len(spans) and not framing[end + 1] and spans[end + 1][1] - spans[best][0] <= limit:
        end += 1
    return _whole(excerpt(text, spans[best][0], spans[end][1]))


def _whole(text: str) -> str:
    """Text shown whole, only a sentence past WHOLE_SENTENCE_CHARS cut."""
    return _trim(text, WHOLE_SENTENCE_CHARS)


def _trim(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """`text` cut to `limit` at a word break, never inside a code span, its bold closed."""
    text = text.strip()
    if len(text) <= limit:
        return text
    spans = code_spans(text)
    cut = limit - 1
    space = next((at for at in range(cut, int(limit * 0.6), -1)
                  if text[at] == " " and not inside_code(spans, at)), -1)
    cut = space if space > 0 else next((start for start, end in spans if start < cut < end), cut)
    return excerpt(text, 0, cut).rstrip(" ,;:—-") + "…"


def _suggestions(index: Index, result: SearchResult, language: str) -> tuple[str, ...]:
    return tuple(note.title for note in suggested_notes(index, result, language))


def suggested_notes(index: Index, result: SearchResult, language: str, share: float = SUGGESTION_SHARE,
                    floor: float = SUGGESTION_FLOOR) -> list[Note]:
    """The notes found worth clicking, titles shown: near the best one's score (and, with sentence
    vectors, above an absolute floor: word scores have no fixed scale, cosines do), each in the
    asker's language when the note has it, else in the note's original, never in a third language."""
    if not result.hits:
        return []
    cut = share * result.hits[0].score
    if result.row_scores is not None:
        cut = max(cut, floor)
    notes: list[Note] = []
    for hit in result.hits:
        if hit.score < cut:
            break  # best first: the rest are lower still
        note = suggested_note(index.groups[hit.group], language)
        if note is not None and note.title not in {n.title for n in notes}:
            notes.append(note)
        if len(notes) == SUGGESTIONS:
            break
    return notes


def suggested_note(group: NoteGroup, language: str) -> Note | None:
    """The translation whose title a suggestion shows: the asker's language, else the original; None
    when neither has text (an emptied file: no third language stands in for it)."""
    for note in (group.in_language(language), group.original):
        if note is not None and note.passages:
            return note
    return None
