"""Every reply fits Discord's limits: long answers are split across embeds/messages or trimmed visibly."""
from __future__ import annotations

import discord
import pytest

from bot.catalog import bot_catalog
from bot.discord_app.reloading.page import render_reload
from bot.discord_app.reloading.reload import Changes, ReloadReport
from bot.discord_app.render import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    EMBEDS_PER_MESSAGE,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    MAX_MESSAGES,
    TITLE_LIMIT,
    Field,
    Page,
    Reply,
    fit_content,
    fit_embeds,
    render_answer,
    split_text,
)
from knowledge.model import Answer, Source

CATALOG = bot_catalog()


def assert_fits(replies: list[Reply]) -> None:
    assert 1 <= len(replies) <= MAX_MESSAGES
    for reply in replies:
        assert reply.content or reply.embeds
        if reply.content is not None:
            assert len(reply.content) <= CONTENT_LIMIT
        assert len(reply.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in reply.embeds) <= EMBED_TOTAL_LIMIT
        for embed in reply.embeds:
            assert len(embed.title or "") <= TITLE_LIMIT
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert len(embed.footer.text or "") <= FOOTER_LIMIT
            assert len(embed.fields) <= 25
            for f in embed.fields:
                assert 0 < len(f.name) <= FIELD_NAME_LIMIT and 0 < len(f.value) <= FIELD_VALUE_LIMIT
            embed.to_dict()  # serializable as sent


def answer(text: str, **kw) -> Answer:
    defaults = dict(question="does DeepSeek use vLLM?", language="en", answered=True, answer_language="en",
                    sources=(Source(path="notes/vllm.md", title="vLLM Adoption", lang="en", url="https://blog.example/notes/vllm"),))
    defaults.update(kw)
    return Answer(text=text, **defaults)


def all_text(replies: list[Reply]) -> str:
    return "\n".join((r.content or "") + "".join(e.description or "" for e in r.embeds) for r in replies)


def test_a_normal_answer_is_one_embed_with_source_link_and_language():
    replies = render_answer(answer("Yes — DeepSeek built its inference engine on vLLM."), CATALOG)
    assert_fits(replies)
    [reply] = replies
    [embed] = reply.embeds
    assert embed.title == "does DeepSeek use vLLM?"
    assert "DeepSeek built its inference engine on vLLM" in embed.description
    assert "Source: [vLLM Adoption](https://blog.example/notes/vllm)" in embed.description
    assert embed.footer.text == "Answer in English"


def test_answer_from_another_language_says_so_in_the_askers_language():
    a = answer("DeepSeek usa vLLM.", question="¿DeepSeek usa vLLM?", language="es", answer_language="en",
               sources=(Source(path="x.md", title="vLLM", lang="en"),))
    [reply] = render_answer(a, CATALOG)
    text = reply.embeds[0].description
    assert "Fuente: vLLM" in text
    assert "inglés" in text  # the not-available-in-your-language notice, in Spanish
    assert reply.embeds[0].footer.text == "Respuesta en inglés"


def test_unknown_lists_did_you_mean():
    a = Answer(question="what is love?", language="en", answered=False, text="", answer_language="en",
               suggestions=("vLLM Adoption by AI Providers", "Other"))
    [reply] = render_answer(a, CATALOG)
    assert "I don't know" in reply.embeds[0].description
    assert "Did you mean: vLLM Adoption by AI Providers, Other?" in reply.embeds[0].description


@pytest.mark.parametrize("size", [4000, 4097, 9000, 12_000])
def test_long_answers_are_split_without_losing_text(size):
    words = " ".join(f"w{i:05d}" for i in range(size // 7 + 1))[:size]
    replies = render_answer(answer(words), CATALOG)
    assert_fits(replies)
    got = all_text(replies)
    for word in words.split()[:-1]:  # the last may be cut at the size boundary
        assert word in got
    assert "Source:" in got  # the source survives the split


def test_huge_answers_are_trimmed_with_a_visible_marker():
    replies = render_answer(answer("x " * 40_000), CATALOG)
    assert_fits(replies)
    assert "shortened to fit Discord" in all_text(replies)


def test_huge_question_title_and_source_title_are_trimmed():
    a = answer("short", question="q" * 5000, sources=(Source(path="p", title="t" * 5000, lang="en",
                                                             url="https://x/" + "u" * 3000),))
    assert_fits(render_answer(a, CATALOG))
    assert_fits(render_answer(a, CATALOG, embeds=False))


def test_many_suggestions_still_fit():
    a = Answer(question="?", language="en", answered=False, text="", answer_language="en",
               suggestions=tuple("title " * 40 for _ in range(200)))
    assert_fits(render_answer(a, CATALOG))
    assert_fits(render_answer(a, CATALOG, embeds=False))


@pytest.mark.parametrize("size", [100, 1999, 2000, 2001, 5000, 30_000])
def test_plain_content_mode_respects_2000(size):
    replies = render_answer(answer("y" * size), CATALOG, embeds=False)
    assert_fits(replies)
    assert all(r.content and not r.embeds for r in replies)


def test_fields_and_embeds_are_packed_within_6000_per_message():
    page = Page(title="t", body="b" * 4000, fields=tuple(Field("n" * 300, "v" * 2000) for _ in range(40)),
                footer="f" * 3000)
    replies = fit_embeds(page, trimmed="[trimmed]", max_messages=10)
    assert_fits_many(replies)
    assert_fits_many(fit_content(page, trimmed="[trimmed]", max_messages=10))


def assert_fits_many(replies: list[Reply]) -> None:
    for reply in replies:
        assert len(reply.content or "") <= CONTENT_LIMIT
        assert len(reply.embeds) <= EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in reply.embeds) <= EMBED_TOTAL_LIMIT
        for embed in reply.embeds:
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert all(len(f.value) <= FIELD_VALUE_LIMIT and len(f.name) <= FIELD_NAME_LIMIT for f in embed.fields)


def test_split_text_prefers_paragraphs_and_never_exceeds():
    text = "a" * 50 + "\n\n" + "b" * 50
    assert split_text(text, 60) == ["a" * 50, "b" * 50]
    for limit in (1, 7, 100):
        assert all(len(p) <= limit for p in split_text("word " * 500 + "z" * 300, limit))


def test_reload_report_with_many_changes_fits():
    report = ReloadReport(
        installed=True, seconds=1.234, notes=5000, languages={"en": 4000, "es": 1000},
        changes=Changes(added=tuple(f"_posts/en/note-{i}.md" for i in range(3000)), updated=("a.md",), removed=()),
        problems=tuple(f"broken-{i}.md:3: front matter is not valid YAML" for i in range(500)),
    )
    replies = render_reload(report, CATALOG, "en")
    assert_fits(replies)
    text = " ".join(f.value for r in replies for e in r.embeds for f in e.fields)
    assert "`_posts/en/note-0.md`" in text and "more" in text
    names = [f.name for r in replies for e in r.embeds for f in e.fields]
    assert "Added (3000)" in names and "Broken notes, skipped (500)" in names and "Notes per language" in names


def test_embeds_never_carry_mentions_that_could_ping():
    # Nothing is stripped (AllowedMentions.none() stops pings bot-wide): the echoed question
    # reads as the user wrote it, escaped so that it cannot even look like a mention.
    a = answer("ok", question="@everyone does DeepSeek use vLLM?")
    [reply] = render_answer(a, CATALOG)
    assert reply.embeds[0].title == "\\@everyone does DeepSeek use vLLM?"
    assert isinstance(reply.embeds[0], discord.Embed)
