"""Answers keep the notes' markdown (code stays code, split or not); the echoed question can form none."""
from __future__ import annotations

import re

import pytest

from bot.catalog import bot_catalog
from bot.discord_app.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    TITLE_LIMIT,
    literal,
    open_fence,
    render_answer,
    split_markdown,
)
from knowledge.model import Answer, Source

CATALOG = bot_catalog()
PHISH = "[click here](http://x.example/phish)"


def answer(text: str, question: str = "how do I install it?") -> Answer:
    return Answer(text=text, question=question, language="en", answered=True, answer_language="en",
                  sources=(Source(path="notes/x.md", title="Install", lang="en", url="https://blog.example/x"),))


def as_typed(shown: str) -> str:
    """What Discord displays for escaped text: a backslash before punctuation is dropped."""
    return re.sub(r"\\([^A-Za-z0-9\s])", r"\1", shown)


def forms_markup(shown: str) -> bool:
    """Would Discord read markup in this text: an unescaped link, mention, emphasis, code or quote?"""
    unescaped = re.sub(r"\\[^A-Za-z0-9\s]", "", shown)
    return bool(re.search(r"\[[^\]]*\]\(|https?://|<[@#:!&t]|@everyone|@here|[*_`~|]|^\s*(>|#|-)", unescaped, re.M))


@pytest.mark.parametrize("question", [
    PHISH, "**bold** _it_ ~~gone~~ ||spoiler|| `code`", "<@123> <@&456> <#789> @everyone @here",
    "> quoted\n# heading\n- item", "see https://evil.example/x", "back\\slash \\*not bold\\*", "<t:1700000000:R>",
])
def test_the_echoed_question_is_shown_as_typed_and_forms_no_markup(question):
    for embeds in (True, False):
        [reply] = render_answer(answer("Run `pip install x`.", question), CATALOG, embeds=embeds)
        title = reply.embeds[0].title if embeds else reply.content.split("\n\n")[0][2:-2]
        assert not forms_markup(title), title
        assert as_typed(title) == " ".join(question.split())


def test_a_phishing_link_in_the_question_is_not_a_link():
    [reply] = render_answer(answer("ok", PHISH), CATALOG)
    assert reply.embeds[0].title == "\\[click here\\](http\\://x.example/phish)"
    assert literal(PHISH) == "\\[click here\\](http\\://x.example/phish)"


def test_a_long_escaped_question_still_fits_the_title():
    [reply] = render_answer(answer("ok", "*" * 1000), CATALOG)
    assert len(reply.embeds[0].title) <= TITLE_LIMIT


def test_answers_keep_code_blocks_and_lists():
    text = "Install it:\n\n```bash\npip install notes_bot\n```\n\n- one *item*\n- two"
    [reply] = render_answer(answer(text), CATALOG)
    description = reply.embeds[0].description
    assert description.startswith(text)  # not escaped: Discord renders the block and the list


@pytest.mark.parametrize("limit", [DESCRIPTION_LIMIT, CONTENT_LIMIT])
def test_a_code_block_split_in_two_is_closed_and_reopened(limit):
    code = "\n".join(f"print({i})  # line {i}" for i in range(900))
    text = f"Before.\n\n```python\n{code}\n```\n\nAfter."
    pieces = split_markdown(text, limit)
    assert len(pieces) > 1
    for piece in pieces:
        assert len(piece) <= limit
        assert open_fence(piece) is None  # every piece closes what it opens
    assert all(p.startswith("```python\n") for p in pieces[1:-1])
    # Nothing lost: without the added fences, the pieces give back every line.
    joined = "\n".join(pieces)
    assert all(f"print({i})  # line {i}" in joined for i in range(900))


def test_a_long_answer_with_code_renders_as_closed_blocks_in_every_message():
    code = "\n".join(f"x{i} = {i}" for i in range(3000))
    for embeds in (True, False):
        replies = render_answer(answer(f"```py\n{code}\n```"), CATALOG, embeds=embeds)
        texts = [e.description or "" for r in replies for e in r.embeds] if embeds else [r.content for r in replies]
        assert texts and all(open_fence(t) is None for t in texts)


def test_open_fence_follows_fences():
    assert open_fence("a\n```py\nx") == "```py"
    assert open_fence("a\n```py\nx\n```") is None
    assert open_fence("~~~\n```\nstill code") == "~~~"
    assert open_fence("no code") is None
