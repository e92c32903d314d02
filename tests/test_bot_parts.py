"""The bot's small parts: catalogs, translator, question detection, cooldown, the defer path."""
from __future__ import annotations

import string

import discord
import pytest

from bot.catalog import BOT_LOCALES, bot_catalog, language_of, ui_language
from bot.discord_app.cooldown import UserCooldown
from bot.discord_app.questions import QuestionDetector
from bot.discord_app.translator import CatalogTranslator
from knowledge.model import NINE_LANGUAGES
from tests.bot_harness import ENGLISH_QUESTION, make_config, replies_to, running_bot
from tests.fake_discord import _COMMAND_NAME as DISCORD_COMMAND_NAME
from tests.fake_discord import FakeDiscord

CATALOG = bot_catalog()


def fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_every_bot_text_with_the_same_fields():
    files = {p.stem for p in BOT_LOCALES.glob("*.yaml")}
    assert files == {"en", "zh", "zh-hant", "ja", "es", "fr", "de", "hi", "ar"}
    english = CATALOG.messages["en"]
    bot_keys = [k for k in english if not k.startswith(("answer.", "language.")) or k == "language.native"]
    for lang in NINE_LANGUAGES:
        for key in bot_keys:
            assert CATALOG.has(lang, key), f"{lang}: {key} missing"
            assert fields_of(CATALOG.messages[lang][key]) == fields_of(english[key]), f"{lang}: {key}"
        if lang != "en":  # real translations, not copies of the English text
            assert CATALOG.text(lang, "help.intro") != CATALOG.text("en", "help.intro")


def test_command_names_follow_discords_rules_in_every_language():
    for lang in NINE_LANGUAGES:
        for key in ("command.ask.name", "command.ask.question.name", "command.reload.name", "command.help.name",
                    "command.help.language.name"):
            name = CATALOG.text(lang, key)
            assert DISCORD_COMMAND_NAME.match(name) and name == name.lower(), f"{lang}: {name!r}"
        assert 1 <= len(CATALOG.text(lang, "command.answer.name")) <= 32
        for key in [k for k in CATALOG.messages["en"] if k.startswith("command.") and k.endswith(".description")]:
            assert 1 <= len(CATALOG.text(lang, key)) <= 100


@pytest.mark.parametrize(("locale", "lang"), [
    (discord.Locale.spain_spanish, "es"), (discord.Locale.latin_american_spanish, "es"),
    (discord.Locale.taiwan_chinese, "zh-hant"), (discord.Locale.chinese, "zh"), (discord.Locale.hindi, "hi"),
    (discord.Locale.american_english, "en"), (discord.Locale.brazil_portuguese, "pt"), ("ar", "ar"), (None, None),
])
def test_locale_to_language(locale, lang):
    assert language_of(locale) == lang


def test_ui_language_falls_back_to_a_covered_language():
    assert ui_language(discord.Locale.brazil_portuguese, discord.Locale.french) == "fr"
    assert ui_language(discord.Locale.korean) == "en"


async def test_translator_gives_catalog_texts_only_for_covered_locales():
    translator = CatalogTranslator(CATALOG)
    string_ = discord.app_commands.locale_str("ask", key="command.ask.name")
    assert await translator.translate(string_, discord.Locale.japanese, None) == "質問"
    assert await translator.translate(string_, discord.Locale.american_english, None) is None
    assert await translator.translate(string_, discord.Locale.korean, None) is None
    assert await translator.translate(discord.app_commands.locale_str("x"), discord.Locale.japanese, None) is None


@pytest.mark.parametrize("text", [
    "does DeepSeek use vLLM", "Is vLLM fast", "how do I run it", "¿Usa DeepSeek vLLM", "Cómo funciona",
    "Est-ce que DeepSeek utilise vLLM", "Qu’est-ce que vLLM", "Wie nutzt DeepSeek vLLM", "DeepSeek 用 vLLM 吗",
    "DeepSeek 有沒有用 vLLM", "DeepSeek は vLLM を使っていますか", "क्या DeepSeek vLLM का उपयोग करता है",
    "DeepSeek vLLM कैसे इस्तेमाल करता है", "هل تستخدم DeepSeek vLLM", "vLLM?", "vLLM？", "vLLM؟", "**What** is vLLM",
])
def test_questions_are_recognised_in_the_nine_languages(text):
    assert QuestionDetector.from_catalog(CATALOG).looks_like_question(text)


@pytest.mark.parametrize("text", ["", "   ", "thanks!", "DeepSeek uses vLLM.", "isolation matters", "howdy all",
                                  "whatever", "good morning", "Danke schön", "merci beaucoup", "谢谢", "ありがとう"])
def test_chatter_is_not_a_question(text):
    assert not QuestionDetector.from_catalog(CATALOG).looks_like_question(text)


def test_cooldown_is_per_user_and_recovers():
    now = [1000.0]
    cooldown = UserCooldown(rate=2, per=10, clock=lambda: now[0])
    assert cooldown.hit(1) is None and cooldown.hit(1) is None
    retry = cooldown.hit(1)
    assert retry is not None and 0 < retry <= 10
    assert cooldown.hit(2) is None  # another user is not affected
    now[0] = 1010.5
    assert cooldown.hit(1) is None


def test_cooldown_forgets_idle_users():
    now = [1000.0]
    cooldown = UserCooldown(rate=1, per=1, clock=lambda: now[0])
    for user in range(3000):
        cooldown.hit(user)
    now[0] = 1100.0
    cooldown.hit(99999)
    assert len(cooldown._buckets) < 10


async def test_a_slow_answer_is_deferred_then_sent(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path)) as bot:
            # Answers take milliseconds; pretend the deadline is already over to exercise the defer path.
            bot.defer_after = 0.0
            inter = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION})
            [message] = await replies_to(fake, inter)
            assert inter.deferred and not message.ephemeral and "DeepSeek" in message.text
        fake.assert_clean()
