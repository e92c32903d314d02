"""Answer → text for a terminal, and → the JSON object of `ask --json` (see shared/eval/score.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .i18n import Catalog
from .model import Answer


@dataclass(frozen=True)
class Frame:
    """What surrounds an answer, in the asker's language, as text pieces; each renderer
    (terminal, JSON, Discord) lays them out and marks them up its own way."""

    lines: tuple[str, ...]  # "I don't know" and "did you mean", or the not-in-your-language notice
    sources: tuple[str, ...]  # "Source: title" or "Source: [title](url)", one per source


def frame(answer: Answer, catalog: Catalog, title: Callable[[str], str] = str,
          url: Callable[[str], str] = str) -> Frame:
    """`title` and `url` prepare titles and links for the renderer's markup (escaping)."""
    lang = answer.language
    if not answer.answered:
        lines = [catalog.text(lang, "answer.idk" if answer.question.strip() else "answer.empty")]
        if answer.covered and answer.absent:
            lines.append(catalog.text(lang, "answer.covers", title=title(answer.covered_title),
                                      listed=", ".join(answer.covered), absent=", ".join(answer.absent)))
        elif answer.suggestions:
            titles = ", ".join(title(t) for t in answer.suggestions)
            lines.append(catalog.text(lang, "answer.did_you_mean", titles=titles))
        return Frame(tuple(lines), ())
    notice = () if not answer.translated_elsewhere else (catalog.text(
        lang, "answer.not_in_language",
        language=catalog.language_name(lang, lang),
        answer_language=catalog.language_name(answer.answer_language, lang),
    ),)
    sources = tuple(
        catalog.text(lang, "answer.source_link", title=title(s.title), url=url(s.url)) if s.url
        else catalog.text(lang, "answer.source", title=title(s.title))
        for s in answer.sources
    )
    return Frame(notice, sources)


def frame_lines(answer: Answer, catalog: Catalog) -> list[str]:
    """The answer with its frame, as plain lines (a source without a link names its file)."""
    framed = frame(answer, catalog)
    if not answer.answered:
        return list(framed.lines)
    sources = [text if source.url else f"{text} ({source.path})"
               for text, source in zip(framed.sources, answer.sources)]
    return [answer.text, *framed.lines, *sources]


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
