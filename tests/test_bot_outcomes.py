""""Not sure" in Discord, against the fake: the offer is public with the vote buttons, journaled as
such, and /unanswered and /stats list it apart from the true "I don't know"s."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.config import AnswersConfig
from tests.bot_harness import ENGLISH_QUESTION, make_config, replies_to, reply_to, running_bot
from tests.fake_discord import FakeDiscord
from tests.test_bot_feedback import ask, buttons, click, journal_rows, settled

UNKNOWN_QUESTION = "What is the capital of Mongolia?"


@pytest.fixture
async def unsure(tmp_path):
    """A bot whose gate nothing passes: the seed notes' questions (confidence about 0.96) are offered,
    unrelated ones (about 0.001) are "I don't know"."""
    async with FakeDiscord() as fake:
        config = replace(make_config(tmp_path), answers=AnswersConfig(min_confidence=1.0, not_sure_confidence=0.5))
        async with running_bot(fake, config) as bot:
            yield fake, bot
        fake.assert_clean()


async def test_a_not_sure_reply_is_public_offers_the_closest_and_carries_the_votes(unsure):
    fake, bot = unsure
    inter, reply = await ask(fake, ENGLISH_QUESTION)
    assert not reply.ephemeral
    lines = reply.text.split("\n")
    assert "I'm not sure the notes answer this. The closest is:" in reply.text
    assert any(line.startswith("Yes — DeepSeek") for line in lines)
    assert "Source: vLLM Adoption by AI Providers" in reply.text
    alice = fake.get_user("alice")["id"]
    # Votes and Delete; no "Show in": there is no answer to show in another language.
    assert set(buttons(reply)) == {f"nb:vote:{inter.id}:up", f"nb:vote:{inter.id}:down", f"nb:del:{alice}"}
    thanks = await click(fake, reply, f"nb:vote:{inter.id}:down")
    assert thanks.ephemeral
    await settled(bot)
    [row] = journal_rows(bot)
    assert row.not_sure and not row.answered and row.down == 1
    assert row.source_path == "notes/vllm-adoption-ai-providers-en.md" and row.answer_lang == "en"


async def test_i_dont_know_stays_private_and_without_buttons(unsure):
    fake, bot = unsure
    _, reply = await ask(fake, UNKNOWN_QUESTION)
    assert reply.ephemeral and "I don't know" in reply.text and not reply.message.get("components")
    await settled(bot)
    [row] = journal_rows(bot)
    assert not row.not_sure and not row.answered and row.source_path is None


async def test_unanswered_lists_not_sure_apart_and_stats_counts_it(unsure):
    fake, _ = unsure
    for question in (UNKNOWN_QUESTION, "what is the capital of mongolia", ENGLISH_QUESTION,
                     "does DeepSeek use vLLM in production"):
        await ask(fake, question)
    report = await reply_to(fake, await fake.send_slash_command("unanswered", {"days": 3}, user="manager"))
    [embed] = report.embeds
    names = [f["name"] for f in embed["fields"]]
    assert names[0].startswith("2× · 2 unanswered · 0 down-voted")
    assert "Mongolia" in embed["fields"][0]["value"] and "DeepSeek" not in embed["fields"][0]["value"]
    assert names[1].startswith("2× not sure · 0 down-voted")
    assert "DeepSeek" in embed["fields"][1]["value"]
    assert "Closest offered: vLLM Adoption by AI Providers" in embed["fields"][1]["value"]
    [stats] = await replies_to(fake, await fake.send_slash_command("stats", {"days": 7}, user="admin"))
    assert "4 questions, 0 answered (0%)" in stats.text
    assert "Not sure (the closest passage offered): 2" in stats.text


async def test_a_typed_question_in_a_channel_gets_no_offer_and_is_journaled_as_i_dont_know(tmp_path):
    async with FakeDiscord() as fake:
        config = replace(make_config(tmp_path, channels=(int(fake.get_channel("help")["id"]),),
                                     unknown_in_channels="react"),
                         answers=AnswersConfig(min_confidence=1.0, not_sure_confidence=0.5))
        async with running_bot(fake, config) as bot:
            await fake.send_message("help", ENGLISH_QUESTION)  # "not sure" (about 0.96 < 1.0): not offered here
            await fake.wait_for(lambda: fake.reactions, what="a reaction")
            await fake.expect_no_channel_message("help")
            await settled(bot)
            [row] = journal_rows(bot)
            # Nothing was offered in the channel: the list of unanswered questions must not say it was.
            assert not row.answered and not row.not_sure and row.source_path is None
        fake.assert_clean()
