"""The bot's message catalog and the mapping from Discord locales to the engine's languages.

Bot texts live in `bot/locales/<lang>.yaml`; the answer frame ("Source", "I don't
know", "Did you mean", language names) lives in `knowledge/locales`. Both load
into one `knowledge.i18n.Catalog`, so lookups and the English fallback behave the
same everywhere.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import discord
from discord import app_commands

from knowledge.i18n import KNOWLEDGE_LOCALES, Catalog
from knowledge.languages import canonical_language
from knowledge.model import NINE_LANGUAGES

BOT_LOCALES = Path(__file__).resolve().with_name("locales")


def bot_catalog() -> Catalog:
    """A fresh catalog: knowledge frame texts first, bot texts on top."""
    return Catalog.load(KNOWLEDGE_LOCALES, BOT_LOCALES)


@cache
def packaged_catalog() -> Catalog:
    # Read-only package data, loaded once: command definitions are evaluated at
    # import time (decorators), before any bot object exists to hold a catalog.
    return bot_catalog()


def command_text(key: str) -> app_commands.locale_str:
    """A translatable command string: English text from the catalog, the key for the Translator."""
    return app_commands.locale_str(packaged_catalog().text("en", key), key=key)


def language_of(locale: discord.Locale | str | None) -> str | None:
    """Engine language of a Discord locale ("es-419" → "es", "zh-TW" → "zh-hant"); None if unknown."""
    if locale is None:
        return None
    return canonical_language(locale.value if isinstance(locale, discord.Locale) else locale)


def ui_language(*locales: discord.Locale | str | None) -> str:
    """The first of the locales whose language the catalogs cover (one of the nine), else English."""
    for locale in locales:
        lang = language_of(locale)
        if lang in NINE_LANGUAGES:
            return lang
    return "en"
