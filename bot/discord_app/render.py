"""Answers and reports → Discord messages that always fit Discord's limits.

Discord rejects a whole message when one limit is exceeded (HTTP 400), so every
reply is built here, measured, and split across embeds/messages or trimmed with
a visible marker. Nothing here sends anything: a `Reply` is the keyword
arguments of one message.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from knowledge.i18n import Catalog
from knowledge.model import Answer
from knowledge.render import frame

# Discord's limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_PER_EMBED = 25
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10
# Our own cap: an answer longer than this many messages is trimmed rather than
# flooding the channel.
MAX_MESSAGES = 3

ANSWER_COLOUR = discord.Colour.blurple()
UNKNOWN_COLOUR = discord.Colour.light_grey()
NOT_SURE_COLOUR = discord.Colour.gold()
PROBLEM_COLOUR = discord.Colour.orange()


@dataclass(frozen=True)
class Reply:
    """One message to send: content and/or embeds."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content:
            out["content"] = self.content
        if self.embeds:
            out["embeds"] = list(self.embeds)
        return out


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Page:
    """Everything one reply says, before it is fitted into embeds or plain messages."""

    title: str | None = None
    url: str | None = None
    body: str = ""
    fields: tuple[Field, ...] = ()
    footer: str | None = None
    colour: discord.Colour = field(default=ANSWER_COLOUR)


# --------------------------------------------------------------------------- text helpers


def shorten(text: str, limit: int, marker: str = "…") -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, ending in `marker`."""
    if len(text) <= limit:
        return text
    if limit <= len(marker):
        return marker[:limit]
    cut = text[: limit - len(marker)]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > (limit - len(marker)) * 0.7:
        cut = cut[:space]
    return cut.rstrip() + marker


def split_text(text: str, limit: int) -> list[str]:
    """Split into pieces of at most `limit` characters, at paragraph, line, sentence or word breaks."""
    if limit <= 0:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", ". ", "。", "? ", "! ", " "):
            pos = window.rfind(sep, 0, limit)
            if pos > limit // 3:  # a break too early would waste most of the piece
                cut = pos + (len(sep) if sep in (". ", "。", "? ", "! ") else 0)
                break
        if cut <= 0:
            cut = limit
        piece = rest[:cut].rstrip()
        if not piece:  # only whitespace before the cut: force progress
            piece, cut = rest[:limit], limit
        pieces.append(piece)
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def one_line(text: str) -> str:
    return " ".join(text.split())


# Markdown that text typed by a user could form: emphasis, code, spoilers, masked links,
# mentions/emoji/timestamps (<…>), "@everyone", links (://), and at the start of a line
# quotes, headings and lists. Discord reads a backslash before punctuation as "this character".
_USER_MARKUP = re.compile(r"[\\*_~|`\[\]<@]|:(?=//)|^\s*(?:>|#|-|\+|\d+\.)", re.MULTILINE)


def literal(text: str) -> str:
    """User text (an echoed question) shown exactly as typed: it can never form a link, a
    mention or formatting in a message of the bot's own."""
    return _USER_MARKUP.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


def literal_line(text: str, limit: int) -> str:
    """`literal(one_line(text))` within `limit` characters (escapes count too)."""
    text = one_line(text)
    size = limit
    while size > 1 and len(out := literal(shorten(text, size))) > limit:
        size -= max(1, (len(out) - limit) // 2)
    return literal(shorten(text, size))


# A fence line: ``` or ~~~ (three or more) and an optional language.
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_FENCE_RESERVE = 40  # room to close a fence at the end of a piece and reopen it in the next


def open_fence(text: str) -> str | None:
    """The opening line of the code fence `text` ends inside, or None."""
    opener: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        if opener is None:
            opener = match.group(1) + match.group(2).strip()[:20]
        elif match.group(1)[0] == opener[0] and not match.group(2).strip():
            opener = None
    return opener


def _fence_of(opener: str) -> str:
    return re.match(r"`+|~+", opener).group()  # type: ignore[union-attr]


def split_markdown(text: str, limit: int) -> list[str]:
    """`split_text`, but a code block cut in two is closed at the end of one piece and reopened
    (same language) at the start of the next: each piece renders on its own."""
    if limit <= _FENCE_RESERVE * 2:
        return split_text(text, limit)
    pieces: list[str] = []
    opener: str | None = None
    for piece in split_text(text, limit - _FENCE_RESERVE):
        if opener is not None:
            piece = opener + "\n" + piece
        opener = open_fence(piece)
        if opener is not None:
            piece += "\n" + _fence_of(opener)
        pieces.append(piece)
    return pieces


def shorten_markdown(text: str, limit: int, marker: str) -> str:
    """`shorten`, closing a code block the cut leaves open (before the marker)."""
    cut = shorten(text, max(1, limit - len(marker) - _FENCE_RESERVE), "")
    opener = open_fence(cut)
    if opener is not None:
        cut = cut.rstrip() + "\n" + _fence_of(opener)
    return cut + marker


def _link_title(title: str) -> str:
    # Brackets in a title would end the markdown link text early.
    return discord.utils.escape_markdown(title).replace("[", "\\[").replace("]", "\\]")


def _link_url(url: str) -> str:
    return url.replace(" ", "%20").replace(")", "%29").replace("(", "%28")


def bullet_list(items: Sequence[str], limit: int, more: Callable[[int], str]) -> str:
    """As many "- item" lines as fit in `limit`; then `more(count of the rest)` on its own line."""
    lines: list[str] = []
    used = 0
    for i, item in enumerate(items):
        line = "- " + shorten(one_line(item), 300)
        left_after = len(items) - i - 1
        reserve = len(more(left_after)) + 1 if left_after else 0
        if used + len(line) + 1 + reserve > limit:
            lines.append(more(len(items) - i))
            break
        lines.append(line)
        used += len(line) + 1
    return shorten("\n".join(lines), limit)


# --------------------------------------------------------------------------- fitting


def fit_embeds(page: Page, *, trimmed: str, max_messages: int = MAX_MESSAGES) -> list[Reply]:
    """The page as embeds: body split over several embeds (and messages) if needed, trimmed past `max_messages`."""
    body = page.body
    for _ in range(30):
        replies = _pack(_embeds(page, body))
        if len(replies) <= max_messages:
            return replies
        if len(body) <= 200:
            break
        # Shrink the body and measure again: splitting at word breaks makes the
        # number of messages hard to predict, measuring is simpler and exact.
        body = shorten_markdown(page.body, int(min(len(body), max_messages * DESCRIPTION_LIMIT) * 0.85),
                                "…\n\n" + trimmed)
    # Still too long (many fields): keep the first messages and say that the rest was cut.
    kept = replies[:max_messages]
    embeds = list(kept[-1].embeds)
    marker = discord.Embed(description=shorten(trimmed, DESCRIPTION_LIMIT), colour=page.colour)
    while embeds and (len(embeds) >= EMBEDS_PER_MESSAGE or sum(map(len, embeds)) + len(marker) > EMBED_TOTAL_LIMIT):
        embeds.pop()
    kept[-1] = Reply(embeds=tuple(embeds) + (marker,))
    return kept


def _embeds(page: Page, body: str) -> list[discord.Embed]:
    chunks = split_markdown(body, DESCRIPTION_LIMIT) or [""]
    embeds = [discord.Embed(description=chunk or None, colour=page.colour) for chunk in chunks]
    if page.title:
        embeds[0].title = shorten(one_line(page.title), TITLE_LIMIT)
        if page.url:
            embeds[0].url = page.url
    fields = list(page.fields)
    target = embeds[-1]
    for f in fields:
        name = shorten(one_line(f.name), FIELD_NAME_LIMIT) or "\u200b"
        value = shorten(f.value, FIELD_VALUE_LIMIT) or "\u200b"
        too_long = len(target) + len(name) + len(value) > EMBED_TOTAL_LIMIT - FOOTER_LIMIT
        if len(target.fields) >= FIELDS_PER_EMBED or too_long:
            target = discord.Embed(colour=page.colour)
            embeds.append(target)
        target.add_field(name=name, value=value, inline=f.inline)
    if page.footer:
        embeds[-1].set_footer(text=shorten(page.footer, FOOTER_LIMIT))
    return embeds


def _pack(embeds: Iterable[discord.Embed]) -> list[Reply]:
    """Group embeds into messages: at most 10 per message and 6000 characters together."""
    messages: list[list[discord.Embed]] = [[]]
    size = 0
    for embed in embeds:
        n = len(embed)
        if messages[-1] and (size + n > EMBED_TOTAL_LIMIT or len(messages[-1]) >= EMBEDS_PER_MESSAGE):
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += n
    return [Reply(embeds=tuple(group)) for group in messages if group]


def fit_content(page: Page, *, trimmed: str, max_messages: int = MAX_MESSAGES) -> list[Reply]:
    """The page as plain messages (for channels where the bot may not embed links)."""
    parts: list[str] = []
    if page.title:
        # Titles are trusted catalog text or user text made literal already (answer_page).
        parts.append("**" + shorten(one_line(page.title), TITLE_LIMIT) + "**")
    if page.body:
        parts.append(page.body)
    for f in page.fields:
        parts.append(f"**{one_line(f.name)}**\n{f.value}")
    if page.footer:
        parts.append(f"-# {one_line(page.footer)}")
    full = "\n\n".join(parts)
    text = full
    for _ in range(30):
        chunks = split_markdown(text, CONTENT_LIMIT)
        if len(chunks) <= max_messages:
            break
        text = shorten_markdown(full, int(min(len(text), max_messages * CONTENT_LIMIT) * 0.85), "…\n\n" + trimmed)
    return [Reply(content=c) for c in chunks[:max_messages]]


def fit(page: Page, catalog: Catalog, lang: str, *, embeds: bool = True) -> list[Reply]:
    trimmed = catalog.text(lang, "reply.trimmed")
    return fit_embeds(page, trimmed=trimmed) if embeds else fit_content(page, trimmed=trimmed)


# --------------------------------------------------------------------------- answers


def answer_page(answer: Answer, catalog: Catalog, *, question_url: str | None = None) -> Page:
    """The frame of an answer in the asker's language: text, language notice, sources, footer."""
    lang = answer.language
    # The question is the user's text: literal. The answer is the notes' markdown (their author
    # is trusted): kept, so code stays code; it still cannot ping (the bot's AllowedMentions.none).
    title = literal_line(answer.question, TITLE_LIMIT) or None
    framed = frame(answer, catalog, title=lambda t: _link_title(one_line(t)), url=_link_url)
    if answer.closest is not None:
        # Not sure: the line that says so on top, so the passage below reads as an offer, not an answer.
        # No "Answer in <language>" footer: it is not an answer.
        body = [*(f"*{line}*" for line in framed.lines), answer.closest.text, *framed.sources]
        return Page(title=title, url=question_url, body="\n\n".join(body), colour=NOT_SURE_COLOUR)
    if not answer.answered:
        return Page(title=title, url=question_url, body="\n\n".join(framed.lines), colour=UNKNOWN_COLOUR)
    body = [answer.text]
    body += [f"*{notice}*" for notice in framed.lines]
    if framed.sources:
        body.append("\n".join(framed.sources))
    footer = catalog.text(lang, "reply.footer", language=catalog.language_name(answer.answer_language, lang))
    return Page(title=title, url=question_url, body="\n\n".join(body), footer=footer)


def render_answer(
    answer: Answer, catalog: Catalog, *, embeds: bool = True, question_url: str | None = None
) -> list[Reply]:
    """One or more messages for an answer, in the asker's language, each within Discord's limits."""
    return fit(answer_page(answer, catalog, question_url=question_url), catalog, answer.language, embeds=embeds)


def render_notice(text: str) -> Reply:
    """A short plain message (refusals, cooldown notices)."""
    return Reply(content=shorten(text, CONTENT_LIMIT))
