"""Answer → text for a terminal, and → the JSON object of `ask --json` (see shared/eval/score.py)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .i18n import Catalog
from .model import Answer, Source


@dataclass(frozen=True)
class Frame:
    """What surrounds an answer, in the asker's language, as text pieces; each renderer
    (terminal, JSON, Discord) lays them out and marks them up its own way."""

    lines: tuple[str, ...]  # "I don't know" and "did you mean", "not sure", or the not-in-your-language notice
    sources: tuple[str, ...]  # "Source: title" or "Source: [title](url)", one per source (of the closest when not sure)


def frame(answer: Answer, catalog: Catalog, title: Callable[[str], str] = str,
          url: Callable[[str], str] = str) -> Frame:
    """`title` and `url` prepare titles and links for the renderer's markup (escaping)."""
    lang = answer.language
    if answer.closest is not None:
        # Not sure: the line that says so first, then (the renderer's) the closest passage and its source.
        source = answer.closest.source
        return Frame((catalog.text(lang, "answer.not_sure"),), (_source_line(catalog, lang, source, title, url),))
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
    sources = tuple(_source_line(catalog, lang, s, title, url) for s in answer.sources)
    return Frame(notice, sources)


def _source_line(catalog: Catalog, lang: str, source: Source, title: Callable[[str], str],
                 url: Callable[[str], str]) -> str:
    if source.url:
        return catalog.text(lang, "answer.source_link", title=title(source.title), url=url(source.url))
    return catalog.text(lang, "answer.source", title=title(source.title))


def frame_lines(answer: Answer, catalog: Catalog) -> list[str]:
    """The answer with its frame, as plain lines (a source without a link names its file)."""
    framed = frame(answer, catalog)
    if answer.closest is not None:
        source = answer.closest.source
        cited = framed.sources[0] if source.url else f"{framed.sources[0]} ({source.path})"
        return [*framed.lines, answer.closest.text, cited]
    if not answer.answered:
        return list(framed.lines)
    sources = [text if source.url else f"{text} ({source.path})"
               for text, source in zip(framed.sources, answer.sources)]
    return [answer.text, *framed.lines, *sources]


def render_text(answer: Answer, catalog: Catalog) -> str:
    return "\n".join(frame_lines(answer, catalog))


def answer_json(answer: Answer, catalog: Catalog) -> dict[str, Any]:
    """The object of `ask --json` (shared/eval/score.py's contract): "closest" only when not sure."""
    text = answer.text if answer.answered else " ".join(frame_lines(answer, catalog))
    closest = {} if answer.closest is None else {"closest": {
        **_source_json(answer.closest.source), "answer": answer.closest.text}}
    return {
        "question": answer.question,
        "language": answer.language,
        "answered": answer.answered,
        "outcome": answer.outcome.value,
        "answer": text,
        "answer_language": answer.answer_language,
        "sources": [_source_json(s) for s in answer.sources],
        **closest,
        "score": answer.score,
        "suggestions": list(answer.suggestions),
    }


def _source_json(source: Source) -> dict[str, Any]:
    return {"path": source.path, "title": source.title, "lang": source.lang,
            **({"url": source.url} if source.url else {})}
