"""What kind of answer a question wants, from its form: "what is X?", "which …?", "what … are there?".

The forms are language knowledge (data/question_forms.yaml), never words of a blog.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

FORMS_FILE = Path(__file__).with_name("data") / "question_forms.yaml"
_TRAILING = re.compile(r"[\s?？¿¡!！.。؟]+$")
_LEADING = re.compile(r"^[\s¿¡]+")


@dataclass(frozen=True)
class Forms:
    """One language's question forms (see data/question_forms.yaml)."""

    overview: tuple[re.Pattern[str], ...] = ()
    list_words: frozenset[str] = frozenset()
    several: tuple[re.Pattern[str], ...] = ()


@lru_cache(maxsize=1)
def _forms() -> dict[str, Forms]:
    data = yaml.safe_load(FORMS_FILE.read_text(encoding="utf-8"))
    return {lang: Forms(tuple(re.compile(p) for p in spec.get("overview", ())), frozenset(spec.get("list", ())),
                        tuple(re.compile(p) for p in spec.get("several", ())))
            for lang, spec in data.items()}


def _forms_for(language: str) -> list[Forms]:
    """The question's language's forms, then English's (English words inside other languages are common)."""
    return [_forms().get(lang, Forms()) for lang in dict.fromkeys((language, "en"))]


def _plain(question: str) -> str:
    return _LEADING.sub("", _TRAILING.sub("", question.casefold().strip()))


def overview_subject(question: str, language: str) -> str | None:
    """X in "what is X?" (in the question's language, or English), else None."""
    text = _plain(question)
    for forms in _forms_for(language):
        for pattern in forms.overview:
            match = pattern.match(text)
            if match and match.group("subject").strip():
                return match.group("subject").strip()
    return None


def asks_for_list(question: str, language: str) -> bool:
    """True when the question opens with a word that asks for several things ("which", "who")."""
    text = _plain(question)
    words = set().union(*(forms.list_words for forms in _forms_for(language)))
    head = re.findall(r"[^\W\d_]+", text)[:3]
    return any(word in words for word in head) or any(text.startswith(w) for w in words if not w.isascii()
                                                      and len(w) > 1 and ord(w[0]) > 0x2E80)


def asks_for_everything(question: str, language: str) -> bool:
    """True when the question asks for all the things of a kind ("what commands are there for …?",
    "¿cuáles son las opciones?", "有哪些选项？"): a table or list answers it whole."""
    text = _plain(question)
    return any(pattern.search(text) for forms in _forms_for(language) for pattern in forms.several)
