"""Discord's own markup in what users type: mentions, channels, custom emoji, timestamps.

The engine knows nothing of Discord; every question from Discord passes through
`without_discord_markup` on its way to it (`NotesBot.answer`, "Show in <language>").
"""
from __future__ import annotations

import re

# <@123> <@!123> <@&123> (users, roles), <#123> (channels), <:name:123> <a:name:123> (custom
# emoji), <t:1700000000:R> (timestamps), <id:customize> and <id:browse> (guide links), @everyone/@here.
_MARKUP = re.compile(r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::\w)?|id:\w+)>|@(?:everyone|here)\b")


def without_discord_markup(text: str) -> str:
    """The text a person meant to ask, with Discord's markup removed (never an error)."""
    return " ".join(_MARKUP.sub(" ", text).split())
