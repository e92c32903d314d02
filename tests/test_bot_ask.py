"""/ask, its autocomplete, the "Answer from notes" context menu and /help, end to end on the bundled notes."""
from __future__ import annotations

import asyncio

import pytest

from bot.config import CooldownConfig
from tests.bot_harness import ENGLISH_QUESTION, SPANISH_QUESTION, make_config, reply_to, running_bot
from tests.fake_discord import FakeDiscord


@pytest.fixture
async def online(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path, base_url="https://blog.example")) as bot:
            yield fake, bot
        fake.assert_clean()


async def test_spanish_question_from_spanish_user_gets_the_spanish_note(online):
    fake, _ = online
    inter = await fake.send_slash_command("ask", {"question": SPANISH_QUESTION}, locale="es-ES")
    response = await reply_to(fake, inter)
    assert not response.ephemeral  # an answer is for the whole channel
    [embed] = response.embeds
    assert embed["title"] == SPANISH_QUESTION
    assert "DeepSeek" in embed["description"] and "Sí" in embed["description"]
    assert "Fuente: [Adopción de vLLM por Proveedores de IA](https://blog.example/_posts/es/" in embed["description"]
    assert embed["footer"]["text"] == "Respuesta en español"
    assert not response.pings.anyone


async def test_english_question_from_spanish_user_gets_english(online):
    fake, _ = online
    inter = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION}, locale="es-ES")
    response = await reply_to(fake, inter)
    [embed] = response.embeds
    assert "Yes" in embed["description"] and "DeepSeek" in embed["description"]
    source = "Source: [vLLM Adoption by AI Providers](https://blog.example/notes/vllm-adoption-ai-providers-en)"
    assert source in embed["description"]
    assert embed["footer"]["text"] == "Answer in English"


async def test_unknown_is_ephemeral_with_did_you_mean(online):
    fake, _ = online
    inter = await fake.send_slash_command("ask", {"question": "What is the capital of Mongolia?"})
    response = await reply_to(fake, inter)
    assert response.ephemeral
    assert "I don't know" in response.text


async def test_autocomplete_suggests_titles_fast_and_never_fails(online):
    fake, bot = online
    first = await fake.send_autocomplete("ask", "question", "")  # the first keystroke
    assert 0 < len(first) <= 25
    assert all(1 <= len(c["name"]) <= 100 and c["name"] == c["value"] for c in first)
    deep = await fake.send_autocomplete("ask", "question", "deeps", locale="es-ES")
    assert any("DeepSeek" in c["name"] for c in deep)
    for odd in ("", " ", "?", "x" * 500, "\u0000<@123>", "¿"):
        choices = await fake.send_autocomplete("ask", "question", odd)
        assert len(choices) <= 25
    # Every keystroke of a word gets choices (its speed is measured in bench/autocomplete.py).
    cog = bot.get_cog("AskCog")
    for prefix in ("d", "de", "dee", "deep", "deeps", "v", "vl", "vll", "vllm"):
        assert await cog.ask_autocomplete(None, prefix)  # type: ignore[arg-type]


async def test_context_menu_answers_the_selected_message(online):
    fake, _ = online
    message = await fake.send_message("general", "Does Anthropic use vLLM for Claude?", author="alice")
    inter = await fake.send_message_command("Answer from notes", message, user="owner")
    response = await reply_to(fake, inter)
    [embed] = response.embeds
    assert "Claude" in embed["description"] or "Anthropic" in embed["description"]
    assert embed["url"].endswith(f"/{message['channel_id']}/{message['id']}")  # the title links to the message
    # A message without text gets a notice only the user sees.
    empty = await fake.send_message("general", "", author="alice", embeds=[{"title": "just an embed"}])
    inter = await fake.send_message_command("Answer from notes", empty)
    response = await reply_to(fake, inter)
    assert response.ephemeral and "no text" in response.content


async def test_help_in_the_users_language_and_by_choice(online):
    fake, _ = online
    inter = await fake.send_slash_command("help", locale="es-ES")
    response = await reply_to(fake, inter)
    assert response.ephemeral
    assert response.embeds[0]["title"] == "Cómo preguntarme"
    assert "/preguntar" in response.text and "/recargar" in response.text
    # Discord has no Arabic locale: the option picks the language, commands keep the names the user sees.
    inter = await fake.send_slash_command("help", {"language": "ar"}, locale="en-US")
    response = await reply_to(fake, inter)
    assert response.embeds[0]["title"] == "كيف تسألني" and "/ask" in response.text


async def test_long_question_fits_discord_limits(online):
    fake, _ = online
    question = "Does DeepSeek use vLLM " + "really " * 140 + "?"
    inter = await fake.send_slash_command("ask", {"question": question[:1000]})
    response = await reply_to(fake, inter)  # the fake rejects anything over the limits
    assert len(response.embeds[0]["title"]) <= 256


async def test_per_user_cooldown_notice_only_for_the_asker(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, cooldown=CooldownConfig(rate=1, per_seconds=60))
        async with running_bot(fake, config):
            first = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION}, user="alice")
            assert not (await reply_to(fake, first)).ephemeral
            second = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION}, user="alice", locale="fr")
            notice = await reply_to(fake, second)
            assert notice.ephemeral and "Doucement" in notice.content
            # Someone else in the same channel is not slowed down.
            other = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION}, user="owner")
            assert not (await reply_to(fake, other)).ephemeral


async def test_questions_in_parallel_all_get_answers(online):
    fake, _ = online
    inters = await asyncio.gather(*(
        fake.send_slash_command("ask", {"question": q}, user=u)
        for q, u in [(ENGLISH_QUESTION, "alice"), (SPANISH_QUESTION, "owner"), ("Does OpenAI use vLLM?", "admin")]
    ))
    for inter in inters:
        assert (await reply_to(fake, inter)).embeds
