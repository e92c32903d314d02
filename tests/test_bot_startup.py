"""Start-up against the fake Discord: intents, allowed mentions, command sync only when the tree changed."""
from __future__ import annotations

import json

import discord

from bot.discord_app.sync import STATE_FILE
from tests.bot_harness import command_named, make_config, running_bot
from tests.fake_discord import FakeDiscord


async def test_start_up_syncs_localized_commands_globally_once(tmp_path):
    config = make_config(tmp_path)
    async with FakeDiscord() as fake:
        async with running_bot(fake, config) as bot:
            assert bot.allowed_mentions.to_dict()["parse"] == []
            assert bot.allowed_mentions.replied_user is False
            intents = fake.intents
            assert intents.guilds and intents.guild_messages
            # No typed questions configured: neither privileged content nor DMs are requested.
            assert not intents.message_content and not intents.dm_messages and not intents.members

        [sync] = fake.command_syncs
        assert sync.guild_id is None  # no guild_ids: global
        commands = fake.registered_commands(global_=True)
        ask = command_named(commands, "ask")
        assert ask["name_localizations"]["es-ES"] == "preguntar"
        assert ask["name_localizations"]["es-419"] == "preguntar"
        assert ask["name_localizations"]["zh-TW"] == "提問"
        assert ask["name_localizations"]["hi"] == "पूछें"
        assert ask["description_localizations"]["ja"] == "ノートについて質問する"
        [question] = ask["options"]
        assert question["name"] == "question" and question["autocomplete"] and question["required"]
        assert question["name_localizations"]["de"] == "frage"
        menu = command_named(commands, "Answer from notes", ctype=3)
        assert menu["name_localizations"]["fr"] == "Répondre avec les notes"
        reload = command_named(commands, "reload")
        assert int(reload["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
        assert reload.get("contexts") == [0] or reload.get("dm_permission") is False
        help_ = command_named(commands, "help")
        assert {c["value"] for c in help_["options"][0]["choices"]} == {
            "en", "zh", "zh-hant", "ja", "es", "fr", "de", "hi", "ar"}
        # Every locale key is one Discord knows (no "es", no "ar").
        for command in commands:
            assert "ar" not in command.get("name_localizations", {})

        stored = json.loads((config.discord.data_dir / STATE_FILE).read_text())
        assert list(stored[str(fake.application_id)]) == ["global"]

        # A restart with the same commands does not sync again (Discord's daily creation limit).
        async with running_bot(fake, config) as bot:
            assert bot.last_sync.unchanged == ("global",) and bot.last_sync.synced == ()
        assert len(fake.command_syncs) == 1
        fake.assert_clean()


async def test_guild_sync_when_configured_and_stale_global_commands_removed(tmp_path):
    async with FakeDiscord() as fake:
        async with running_bot(fake, make_config(tmp_path)):
            pass
        assert fake.registered_commands(global_=True)
        config = make_config(tmp_path, guild_ids=(fake.guild_id,))
        async with running_bot(fake, config) as bot:
            assert bot.last_sync.synced == (f"guild:{fake.guild_id}",)
            assert bot.last_sync.cleared == ("global",)
        assert {c["name"] for c in fake.registered_commands(fake.guild_id)} == {"ask", "Answer from notes", "reload",
                                                                                "help", "unanswered", "stats"}
        assert fake.registered_commands(global_=True) == []
        # The guild commands answer (interactions come with the guild's copy of the command).
        async with running_bot(fake, config):
            inter = await fake.send_slash_command("help")
            response = await fake.wait_interaction_response(inter)
            assert response.ephemeral
        # global, then the guild and the emptied global scope; the third start synced nothing
        assert [s.guild_id for s in fake.command_syncs] == [None, fake.guild_id, None]
        fake.assert_clean()


async def test_typed_questions_request_the_message_content_intent(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, channels=(fake.get_channel("help")["id"],), dms=True)
        async with running_bot(fake, config):
            assert fake.intents.message_content and fake.intents.dm_messages and fake.intents.guild_messages


async def test_a_broken_state_file_costs_one_sync_not_a_crash(tmp_path):
    config = make_config(tmp_path)
    config.discord.data_dir.mkdir(parents=True)
    (config.discord.data_dir / STATE_FILE).write_text("{not json", encoding="utf-8")
    async with FakeDiscord() as fake:
        async with running_bot(fake, config) as bot:
            assert bot.last_sync.synced == ("global",)
        assert json.loads((config.discord.data_dir / STATE_FILE).read_text())
