"""Search result → Answer: choose the asker's translation, align the passage, cut it short.

The passage found may be in any language; the answer text comes from the same place
(same section, same table row) of the note's translation in the asker's language when
there is one, else from the fallback languages in order (default English, then the
note's original). Yes/no questions about a table fact lead with the table's value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .index import Index
from .model import Answer, Note, NoteGroup, Passage, Source
from .search import SearchResult
from .text import fold, terms

MAX_ANSWER_CHARS = 450
SHORT_PASSAGE_CHARS = 80
CODE_LINES = 3
SUGGESTIONS = 3

_YES = frozenset(["yes", "si", "oui", "ja", "sim", "да", "是", "是的", "はい", "예", "네", "نعم", "हाँ", "हां", "✅", "✔", "true"])
_NO = frozenset(["no", "non", "nein", "nao", "нет", "否", "不", "いいえ", "아니요", "아니오", "لا", "नहीं", "❌", "✗", "false"])
# A question with one of these asks for a value, not a yes or no.
_WH_WORDS = frozenset(
    """what which how who whom whose when where why qué cuál cual cuáles cuales cómo quién quien
    cuándo cuando dónde donde cuánto cuanto cuántos cuantos quel quelle quels quelles comment combien
    pourquoi où qui quoi was wie welche welcher welches wer wann wo warum wieviel cosa come quale quali
    chi quando dove perché perche qual quais quem что как почему где когда кто какой какая какие сколько
    ما ماذا كيف لماذا متى أين كم""".split()
)
_WH_CJK = ("什么", "怎么", "哪", "为什么", "為什麼", "多少", "如何", "谁", "誰", "几", "幾", "何", "どう", "なぜ", "いつ", "どこ", "どれ", "どの",
           "무엇", "어떻게", "왜", "언제", "어디", "누구", "몇")
_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；])\s+|(?<=[。！？；])")


@dataclass(frozen=True)
class AnswerOptions:
    fallback_languages: tuple[str, ...] = ("en", "original")
    base_url: str | None = None
    min_confidence: float = 0.35


def compose(index: Index, result: SearchResult, question: str, language: str, options: AnswerOptions) -> Answer:
    best = result.best
    if best is None or result.confidence < options.min_confidence:
        return Answer(
            question=question, language=language, answered=False, text="", answer_language=language,
            score=round(result.confidence, 4), suggestions=_suggestions(index, result, language),
        )
    group = index.groups[best.group]
    found_note = index.note_of(best.passage)
    found_passage = index.passage(best.passage)
    note = pick_translation(group, language, options.fallback_languages, found_note)
    passage = found_passage if note is found_note else align(found_passage, note, question)
    text = answer_text(note, passage, question)
    return Answer(
        question=question,
        language=language,
        answered=True,
        text=text,
        answer_language=note.lang,
        sources=(source_of(note, options.base_url),),
        score=round(result.confidence, 4),
        section=passage.section,
    )


def pick_translation(group: NoteGroup, language: str, fallbacks: tuple[str, ...], found: Note) -> Note:
    """The asker's language, else each fallback in order ("original" = the note's original language)."""
    for code in (language, *fallbacks):
        note = group.original if code == "original" else group.in_language(code)
        if note is not None:
            return note
    return found


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


def align(source: Passage, target: Note, question: str) -> Passage:
    """The passage of `target` that says what `source` says in another language."""
    if not target.passages:
        return source
    same_place = [p for p in target.passages if p.position == source.position and p.kind == source.kind]
    if same_place:
        return same_place[0]
    src_anchors = _anchors(source.text)
    asked = set(terms(question, prefixes=False))

    def closeness(p: Passage) -> float:
        anchors = _anchors(p.text)
        shared = len(src_anchors & anchors) / (len(src_anchors | anchors) or 1)
        asked_hit = len(asked & set(terms(p.text, prefixes=False))) / (len(asked) or 1)
        distance = abs(p.position[0] - source.position[0]) + 0.2 * abs(p.position[1] - source.position[1])
        return shared + 0.5 * asked_hit + (0.3 if p.kind == source.kind else 0.0) - 0.05 * distance

    return max(target.passages, key=closeness)


def is_yes_no_question(question: str) -> bool:
    lowered = question.casefold()  # accents kept: "qué" asks a value, "que" only links words
    if any(marker in lowered for marker in _WH_CJK):
        return False
    return not any(word in _WH_WORDS for word in re.findall(r"[^\W\d_]+", lowered)[:6])


def _yes_no_cell(cell: str) -> bool:
    head = re.split(r"[\s(（,.;:—-]", fold(cell).strip(), maxsplit=1)[0]
    return head in _YES or head in _NO


def answer_text(note: Note, passage: Passage, question: str) -> str:
    if passage.kind == "code":
        return _code_lines(note, passage, question)
    if passage.kind == "row" and passage.cells:
        return _row_text(passage, question)
    if passage.kind == "heading" or len(passage.text) < SHORT_PASSAGE_CHARS or passage.text.rstrip().endswith(
        (":", "：")
    ):
        return _with_neighbours(note, passage, question)
    return _best_sentences(passage.text, question)


def _row_text(passage: Passage, question: str) -> str:
    cells = [c.strip() for c in passage.cells]
    header = list(passage.header) + [""] * max(0, len(cells) - len(passage.header))
    verdict = next((i for i, c in enumerate(cells) if i > 0 and _yes_no_cell(c)), None)
    if verdict is not None and is_yes_no_question(question):
        rest = [c for i, c in enumerate(cells) if i not in (0, verdict) and c]
        detail = max(rest, key=len) if rest else cells[0]
        return _trim(f"{cells[verdict]} — {detail}")
    parts = []
    for i, cell in enumerate(cells[1:], start=1):
        if not cell:
            continue
        label = header[i].strip()
        parts.append(f"{label}: {cell}" if label and len(cell) <= 40 else cell)
    return _trim(f"{cells[0]} — " + " — ".join(parts) if parts else cells[0])


def _code_lines(note: Note, passage: Passage, question: str, context: str = "") -> str:
    """A code block never answers alone: its lines that match the question, after the text that leads to it."""
    lines = [line for line in passage.text.splitlines() if line.strip()]
    if not lines:
        return context
    asked = set(terms(question))
    scores = [len(asked & set(terms(line))) for line in lines]
    best = max(range(len(lines)), key=lambda i: (scores[i], -i)) if any(scores) else 0
    start, end = best, min(len(lines), best + CODE_LINES)  # a comment names what the next lines do
    snippet = "\n".join(line.rstrip() for line in lines[start:end])[:MAX_ANSWER_CHARS]
    if not context:
        index = note.passages.index(passage) if passage in note.passages else -1
        before = note.passages[index - 1] if index > 0 else None
        if before is not None and before.kind != "code" and before.section == passage.section:
            context = _trim(before.text, MAX_ANSWER_CHARS // 2)
    return (context + "\n" if context else "") + f"```\n{snippet}\n```"


def _with_neighbours(note: Note, passage: Passage, question: str) -> str:
    """A heading, a short item or a "…:" line says little alone: add what follows it in the same section."""
    pieces = [passage.text]
    start = note.passages.index(passage) if passage in note.passages else -1
    for following in note.passages[start + 1 :] if start >= 0 else ():
        if following.kind == "heading" or (following.section[:1] != passage.section[:1] and passage.kind != "heading"):
            break
        if following.kind == "code":
            return _code_lines(note, following, question, context=_trim(" ".join(pieces), MAX_ANSWER_CHARS // 2))
        text = following.text if following.kind != "row" else " — ".join(following.cells)
        if sum(len(p) for p in pieces) + len(text) > MAX_ANSWER_CHARS:
            if len(pieces) == 1:
                pieces.append(_trim(text, MAX_ANSWER_CHARS - len(pieces[0])))
            break
        pieces.append(text)
    joiner = "\n" if passage.kind == "heading" else " "
    return _trim(joiner.join(pieces))


def _best_sentences(text: str, question: str) -> str:
    """The sentence that matches the question best, widened with its neighbours up to the limit."""
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    asked = set(terms(question))
    scores = [len(asked & set(terms(s))) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    lo = hi = best
    length = len(sentences[best])
    while True:
        grew = False
        if hi + 1 < len(sentences) and length + len(sentences[hi + 1]) + 1 <= MAX_ANSWER_CHARS:
            hi += 1
            length += len(sentences[hi]) + 1
            grew = True
        if lo > 0 and length + len(sentences[lo - 1]) + 1 <= MAX_ANSWER_CHARS:
            lo -= 1
            length += len(sentences[lo]) + 1
            grew = True
        if not grew:
            break
    joiner = "" if any(ord(ch) > 0x2E80 for ch in sentences[best][:3]) else " "
    return _trim(joiner.join(s.strip() for s in sentences[lo : hi + 1]))


def _trim(text: str, limit: int = MAX_ANSWER_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:—-") + "…"


def _suggestions(index: Index, result: SearchResult, language: str) -> tuple[str, ...]:
    titles: list[str] = []
    for hit in result.hits:
        group = index.groups[hit.group]
        note = group.in_language(language) or group.original
        if note.title not in titles:
            titles.append(note.title)
        if len(titles) == SUGGESTIONS:
            break
    return tuple(titles)
