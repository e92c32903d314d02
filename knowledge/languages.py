"""Language codes: one canonical spelling for every alias a note, a locale or a file name uses."""
from __future__ import annotations

_ALIASES = {
    "zh-hant": "zh-hant", "hant": "zh-hant", "zh-tw": "zh-hant", "zh-hk": "zh-hant", "zh-mo": "zh-hant",
    "tw": "zh-hant", "zht": "zh-hant",
    "zh": "zh", "zh-cn": "zh", "zh-hans": "zh", "zh-sg": "zh", "cn": "zh", "hans": "zh",
    "pt-br": "pt", "pt-pt": "pt", "es-es": "es", "es-419": "es", "en-us": "en", "en-gb": "en",
    "sv-se": "sv",
}


def canonical_language(code: object) -> str | None:
    """Map "es-ES", "zh_TW", "hant", "EN" ... to the engine's codes ("es", "zh-hant", "en"); None if empty."""
    if not isinstance(code, str) or not code.strip():
        return None
    norm = code.strip().lower().replace("_", "-")
    if norm in _ALIASES:
        return _ALIASES[norm]
    if norm.startswith("zh-hant"):
        return "zh-hant"
    if norm.startswith("zh"):
        return "zh"
    base = norm.split("-")[0]
    return base if base.isalpha() and 2 <= len(base) <= 3 else None
