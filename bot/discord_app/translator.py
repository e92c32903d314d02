"""Localized command names and descriptions, from the same YAML catalogs as every other text.

Commands are declared with `command_text(key)`, a `locale_str` whose `key` extra
names the catalog entry; discord.py asks this translator for each Discord locale
when it builds the payload to sync.
"""
from __future__ import annotations

import discord
from discord import app_commands

from knowledge.i18n import Catalog

from ..catalog import language_of, packaged_catalog


def command_text(key: str) -> app_commands.locale_str:
    """A translatable command string: English text from the catalog, the key for the Translator."""
    return app_commands.locale_str(packaged_catalog().text("en", key), key=key)


class CatalogTranslator(app_commands.Translator):
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = language_of(locale)
        # None means "use the default (English) string": for English locales, for
        # strings without a key and for languages the catalogs do not cover.
        if key is None or lang is None or lang == self.catalog.default or not self.catalog.has(lang, key):
            return None
        return self.catalog.text(lang, key)
