"""The bot's message catalog and the one rule for the language of the bot's own texts.

Bot texts live in `bot/locales/<lang>.yaml`; the answer frame ("Source", "I don't
know", "Did you mean", language names) lives in `knowledge/locales`. Both load
into one `knowledge.i18n.Catalog`, so lookups and the English fallback behave the
same in Discord and on the command line. No Discord import here: the command line
uses it too.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Protocol

from knowledge.i18n import KNOWLEDGE_LOCALES, Catalog
from knowledge.languages import canonical_language
from knowledge.model import NINE_LANGUAGES

BOT_LOCALES = Path(__file__).resolve().with_name("locales")


class _NamedLocale(Protocol):
    """`discord.Locale` (discord.py's own enum type, not the standard library's): its value is the code."""

    @property
    def value(self) -> str: ...


Locale = _NamedLocale | str | None


def bot_catalog() -> Catalog:
    """A fresh catalog: knowledge frame texts first, bot texts on top."""
    return Catalog.load(KNOWLEDGE_LOCALES, BOT_LOCALES)


@cache
def packaged_catalog() -> Catalog:
    # Read-only package data, loaded once: command definitions are evaluated at
    # import time (decorators), before any bot object exists to hold a catalog.
    return bot_catalog()


def language_of(locale: Locale) -> str | None:
    """Engine language of a locale ("es-419" → "es", "zh-TW" → "zh-hant"); None if unknown."""
    if locale is None:
        return None
    return canonical_language(locale if isinstance(locale, str) else locale.value)


def ui_language(*locales: Locale) -> str:
    """The first of the locales whose language the catalogs cover (one of the nine), else English."""
    for locale in locales:
        lang = language_of(locale)
        if lang in NINE_LANGUAGES:
            return lang
    return "en"
