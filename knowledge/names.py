"""Names the notes never translate ("kafka", "nginx", "karpathy"), learned from the notes.

A word that a translation keeps as it is, in Latin letters, is a name or a command, not a word
of one language: a question made of it and a few words of Spanish is Spanish, however English
"kafka" looks to a detector. Two places show it without any list written by hand:
- a translation written in another script (Chinese, Japanese, Hindi, Arabic, Russian, Korean)
  keeps in Latin letters only names, commands and code;
- a title that keeps a word unchanged in two languages (titles are always translated).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from .model import NoteGroup
from .text import fold, stop_words

NON_LATIN_LANGUAGES = frozenset({"zh", "zh-hant", "ja", "hi", "ar", "ru", "ko"})
_LATIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z][A-Za-z'’-]*[A-Za-z](?![A-Za-z])")
MIN_LENGTH = 2


def untranslated_names(groups: Iterable[NoteGroup]) -> frozenset[str]:
    """Folded Latin words kept unchanged by the blog's own translations (stop words excepted)."""
    names: set[str] = set()
    for group in groups:
        if len(group.notes) < 2:
            continue
        titles: dict[str, set[str]] = {}
        for note in group.notes:
            for word in _words(note.title):
                titles.setdefault(word, set()).add(note.lang)
            if note.lang in NON_LATIN_LANGUAGES:
                names.update(_words(note.title))
                for passage in note.passages:
                    if passage.kind != "code":  # code is set aside by the detector anyway
                        names.update(_words(passage.text))
        names.update(word for word, langs in titles.items() if len(langs) >= 2)
    return frozenset(names - stop_words())


def _words(text: str) -> set[str]:
    return {fold(word) for word in _LATIN_WORD.findall(text) if len(word) >= MIN_LENGTH}
