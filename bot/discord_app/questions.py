"""Does a message look like a question? Used only for typed questions in configured channels.

The words come from the catalogs (`question.starts`, `question.contains`) so that
all nine languages are covered and a translator can extend them without code.
A false positive costs little: the engine says it does not know and the bot
stays quiet (or reacts), so the rules favour recall.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from knowledge.i18n import Catalog

# Question marks of the scripts the bot speaks: ASCII, full-width (CJK),
# Arabic, and the Spanish opening mark.
QUESTION_MARKS = ("?", "？", "؟", "¿")


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().replace("’", "'")
    return " " + " ".join(text.split()) + " "


@dataclass(frozen=True)
class QuestionDetector:
    starts: tuple[str, ...]  # normalized phrases that begin a question
    contains: tuple[str, ...]  # normalized markers that make a question anywhere

    @classmethod
    def from_catalog(cls, catalog: Catalog) -> QuestionDetector:
        starts: set[str] = set()
        contains: set[str] = set()
        for lang in catalog.languages:
            for key, into in (("question.starts", starts), ("question.contains", contains)):
                if catalog.has(lang, key):
                    # Keep the spaces of "contains" markers: " क्या " must be a whole word.
                    raw = catalog.messages[lang][key].split("|")
                    into.update(m.casefold() if key == "question.contains" else m.strip().casefold() for m in raw)
        starts.discard("")
        contains.discard("")
        contains.discard(" ")
        return cls(tuple(sorted(starts, key=len, reverse=True)), tuple(sorted(contains)))

    def looks_like_question(self, text: str) -> bool:
        if not text or not text.strip():
            return False
        if any(mark in text for mark in QUESTION_MARKS):
            return True
        norm = _normalize(text)
        # Drop leading punctuation and markup (quotes, bullets, "**") before the first word.
        head = re.sub(r"^[\s\W_]+", "", norm)
        for phrase in self.starts:
            if head.startswith(phrase):
                rest = head[len(phrase):]
                # The phrase must end at a word boundary: "is" starts "is it", not "isolate".
                if not rest or not (rest[0].isalnum() or unicodedata.category(rest[0]).startswith("M")):
                    return True
        return any(marker in norm for marker in self.contains)
