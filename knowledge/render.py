"""Answer → text for a terminal, and → the JSON object of `ask --json` (see shared/eval/score.py)."""
from __future__ import annotations

from typing import Any

from .i18n import Catalog
from .model import Answer


def frame_lines(answer: Answer, catalog: Catalog) -> list[str]:
    """The answer with its frame in the asker's language: text, language notice, source; or "I don't know"."""
    lang = answer.language
    if not answer.answered:
        lines = [catalog.text(lang, "answer.idk" if answer.question.strip() else "answer.empty")]
        if answer.suggestions:
            lines.append(catalog.text(lang, "answer.did_you_mean", titles=" · ".join(answer.suggestions)))
        return lines
    lines = [answer.text]
    if answer.translated_elsewhere:
        lines.append(catalog.text(
            lang, "answer.not_in_language",
            language=catalog.language_name(lang, lang),
            answer_language=catalog.language_name(answer.answer_language, lang),
        ))
    for source in answer.sources:
        if source.url:
            lines.append(catalog.text(lang, "answer.source_link", title=source.title, url=source.url))
        else:
            lines.append(catalog.text(lang, "answer.source", title=source.title) + f" ({source.path})")
    return lines


def render_text(answer: Answer, catalog: Catalog) -> str:
    return "\n".join(frame_lines(answer, catalog))


def answer_json(answer: Answer, catalog: Catalog) -> dict[str, Any]:
    text = answer.text if answer.answered else " ".join(frame_lines(answer, catalog))
    return {
        "question": answer.question,
        "language": answer.language,
        "answered": answer.answered,
        "answer": text,
        "answer_language": answer.answer_language,
        "sources": [
            {"path": s.path, "title": s.title, "lang": s.lang, **({"url": s.url} if s.url else {})}
            for s in answer.sources
        ],
        "score": answer.score,
        "suggestions": list(answer.suggestions),
    }
