"""Questions in messages: mentions, configured channels, DMs, threads; never bots, never twice, never a ping."""
from __future__ import annotations

from bot.config import CooldownConfig
from tests.bot_harness import ENGLISH_QUESTION, SPANISH_QUESTION, make_config, running_bot
from tests.fake_discord import FakeDiscord, make_guild


async def test_a_mention_anywhere_is_a_question_without_the_content_intent(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path)):
            assert not fake.intents.message_content
            message = await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            reply = await fake.wait_channel_message("general")
            assert reply.message_reference["message_id"] == message["id"]
            assert "DeepSeek" in reply.text and "Answer in English" in reply.text
            assert not reply.pings.anyone  # not even the asker is pinged by the reply
            # Its own reply comes back through the gateway (as on Discord): it must not answer itself.
            await fake.expect_no_channel_message("general", within=0.3)
        fake.assert_clean()


async def test_everyone_in_a_question_does_not_ping(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_message("general", f"@everyone <@bot> {ENGLISH_QUESTION} @here <@&{fake.guild_id}>")
            reply = await fake.wait_channel_message("general")
            assert reply.allowed_mentions["parse"] == []
            assert reply.allowed_mentions.get("replied_user") is False
            assert not reply.pings.anyone and not reply.pings.everyone


async def test_configured_channel_answers_questions_and_ignores_chatter_and_other_channels(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, channels=(int(fake.get_channel("help")["id"]),))
        async with running_bot(fake, config):
            await fake.send_message("help", "good morning everyone")
            await fake.expect_no_channel_message("help")
            await fake.send_message("general", ENGLISH_QUESTION)  # not configured, no mention: silence
            await fake.expect_no_channel_message("general")
            question = await fake.send_message("help", SPANISH_QUESTION)
            reply = await fake.wait_channel_message("help")
            assert reply.message_reference["message_id"] == question["id"]
            assert "Respuesta en español" in reply.text
            # A question-like message in another language, without a question mark.
            await fake.send_message("help", "nutzt DeepSeek vLLM")
            assert "DeepSeek" in (await fake.wait_channel_message("help")).text
            # Unknown in a configured channel: quiet by default.
            await fake.send_message("help", "What is the capital of Mongolia?")
            await fake.expect_no_channel_message("help")
            assert fake.reactions == []
        fake.assert_clean()


async def test_unknown_in_channel_can_react_and_a_mention_says_i_dont_know(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, channels=(int(fake.get_channel("help")["id"]),), unknown_in_channels="react")
        async with running_bot(fake, config):
            message = await fake.send_message("help", "What is the capital of Mongolia?")
            await fake.wait_for(lambda: fake.reactions, what="a reaction")
            [reaction] = fake.reactions
            assert reaction.message_id == int(message["id"]) and reaction.emoji == "🤷"
            await fake.expect_no_channel_message("help")
            # Addressed directly, the bot answers that it does not know.
            await fake.send_message("general", "<@bot> What is the capital of Mongolia?")
            assert "I don't know" in (await fake.wait_channel_message("general")).text


async def test_trigger_every_answers_statements_too(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, channels=(int(fake.get_channel("help")["id"]),), trigger="every")
        async with running_bot(fake, config):
            await fake.send_message("help", "DeepSeek vLLM production")
            assert "DeepSeek" in (await fake.wait_channel_message("help")).text


async def test_never_answers_bots_and_each_message_once(tmp_path):
    async with FakeDiscord() as fake:
        other_bot = await fake.add_member("otherbot")
        other_bot["user"]["bot"] = True
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}", author=other_bot["user"])
            await fake.expect_no_channel_message("general")
            message = await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            await fake.wait_channel_message("general")
            # The gateway delivers the same message again (e.g. after a resume).
            await fake.dispatch_event("MESSAGE_CREATE", message)
            await fake.expect_no_channel_message("general", within=0.4)
            assert len([m for m in fake.channel_messages if m.message_reference]) == 1


async def test_reply_in_thread(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path, reply_in_thread=True)):
            message = await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            await fake.wait_for(lambda: fake.threads_created, what="a thread")
            [thread] = fake.threads_created
            reply = await fake.wait_channel_message(int(thread["id"]))
            assert "DeepSeek" in reply.text
            assert thread["name"] == ENGLISH_QUESTION
            assert int(thread.get("parent_id")) == int(message["channel_id"])
        fake.assert_clean()


async def test_dms_only_when_enabled(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_dm(ENGLISH_QUESTION)  # not even delivered: no DM intent
            assert not [m for m in fake.channel_messages if "DeepSeek" in m.text]
        async with running_bot(fake, make_config(tmp_path, dms=True)):
            await fake.send_dm(ENGLISH_QUESTION)
            reply = await fake.wait_for(lambda: [m for m in fake.channel_messages if "DeepSeek" in m.text],
                                        what="a DM answer")
            assert "Answer in English" in reply[0].text


async def test_guild_locale_decides_a_short_question(tmp_path):
    async with FakeDiscord(guilds=[make_guild(preferred_locale="es-ES")]) as fake:
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_message("general", "<@bot> DeepSeek vLLM")
            reply = await fake.wait_channel_message("general")
            assert "Respuesta en español" in reply.text


async def test_channel_cooldown_reacts_instead_of_answering(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path, cooldown=CooldownConfig(rate=1, per_seconds=60))):
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            await fake.wait_channel_message("general")
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            await fake.wait_for(lambda: fake.reactions, what="the cooldown reaction")
            assert fake.reactions[0].emoji == "⏳"
            await fake.expect_no_channel_message("general")


async def test_plain_text_answer_where_embeds_are_not_allowed(tmp_path):
    from tests.fake_discord import Perm

    async with FakeDiscord() as fake:
        await fake.set_permission_overwrite("general", "bot", deny=Perm.EMBED_LINKS)
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            reply = await fake.wait_channel_message("general")
            assert not reply.embeds and "DeepSeek" in reply.content and len(reply.content) <= 2000


async def test_without_read_message_history_the_answer_is_a_plain_message(tmp_path):
    from tests.fake_discord import Perm

    async with FakeDiscord() as fake:
        await fake.set_permission_overwrite("general", "bot", deny=Perm.READ_MESSAGE_HISTORY)
        async with running_bot(fake, make_config(tmp_path)):
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            reply = await fake.wait_channel_message("general")
            assert reply.message_reference is None and "DeepSeek" in reply.text
        fake.assert_clean()
