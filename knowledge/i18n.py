"""Message catalogs: user-facing text lives in YAML files, one per language, never in code.

A catalog folder holds `<lang>.yaml` files mapping message keys to format strings.
Lookup falls back from the asked language to English, so a missing translation
shows English text rather than a key or an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .languages import canonical_language

KNOWLEDGE_LOCALES = Path(__file__).with_name("locales")


@dataclass(frozen=True)
class Catalog:
    """Messages per language; `text(lang, key, **fields)` formats one."""

    messages: dict[str, dict[str, str]]
    default: str = "en"

    @classmethod
    def load(cls, *folders: Path) -> Catalog:
        """Merge every `<lang>.yaml` in the folders (later folders override earlier ones)."""
        merged: dict[str, dict[str, str]] = {}
        for folder in folders:
            for path in sorted(Path(folder).glob("*.yaml")):
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                if not isinstance(data, dict):
                    raise ValueError(f"{path}: a catalog must be a mapping of key to text")
                lang = canonical_language(path.stem) or path.stem
                merged.setdefault(lang, {}).update({str(k): str(v) for k, v in data.items()})
        return cls(merged)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.messages))

    def has(self, lang: str, key: str) -> bool:
        return key in self.messages.get(lang, {})

    def text(self, lang: str | None, key: str, **fields: object) -> str:
        lang = canonical_language(lang) or self.default
        for candidate in (lang, self.default):
            template = self.messages.get(candidate, {}).get(key)
            if template is not None:
                return template.format(**fields) if fields else template
        raise KeyError(f"message {key!r} is in no catalog")

    def language_name(self, lang: str, in_lang: str | None) -> str:
        """The name of `lang` written in `in_lang` (e.g. "español" in Spanish, "Spanish" in English)."""
        key = f"language.{lang}"
        known = self.has(in_lang or self.default, key) or self.has(self.default, key)
        return self.text(in_lang, key) if known else lang


def knowledge_catalog() -> Catalog:
    return Catalog.load(KNOWLEDGE_LOCALES)
