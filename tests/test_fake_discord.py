"""Tests of the fake Discord itself, driven by a plain discord.py ``commands.Bot`` defined here."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fake_discord import (  # noqa: F401  (error_log / network_guard are autouse fixtures)
    BlockedNetworkError,
    CommandUnavailable,
    ErrorLogCapture,
    FakeDiscord,
    InteractionRejected,
    Perm,
    error_log,
    fake_discord,
    network_guard,
    network_guard_violations,
)

REPO = Path(__file__).resolve().parents[1]
TOPICS = ["deepseek", "deep learning", "vllm", "openai"]


class Helpful(discord.ui.View):
    @discord.ui.button(label="Helpful", custom_id="helpful")
    async def helpful(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message(f"thanks {interaction.user.name}", ephemeral=True)

    @discord.ui.button(label="Close", custom_id="close")
    async def close(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.defer()  # deferred update of the clicked message
        await interaction.edit_original_response(content="closed", view=None)


def make_bot(*, message_content: bool = True) -> commands.Bot:
    intents = discord.Intents.default()
    intents.message_content = message_content
    bot = commands.Bot(command_prefix="!", intents=intents, help_command=None)
    bot.seen_contents = []

    @bot.tree.command(name="ping", description="Replies pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @bot.tree.command(name="slow", description="Deferred answer")
    async def slow(interaction: discord.Interaction, question: str, private: bool = False) -> None:
        await interaction.response.defer(thinking=True, ephemeral=private)
        await asyncio.sleep(0.05)
        await interaction.followup.send(f"answer to {question} ({interaction.locale.value})")
        if private:
            await interaction.followup.send("second followup", view=Helpful())

    async def topic_choices(interaction: discord.Interaction, current: str):
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current.lower())]

    @bot.tree.command(name="ask", description="Ask about a topic")
    @app_commands.autocomplete(topic=topic_choices)
    async def ask(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"topic={topic}")

    @bot.tree.command(name="config", description="Admins only")
    @app_commands.default_permissions(manage_guild=True)
    async def config(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("configured", ephemeral=True)

    @bot.tree.command(name="long", description="Answers with too much text")
    async def long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("x" * 2001)

    @bot.tree.context_menu(name="Quote message")
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}", ephemeral=True)

    @bot.tree.context_menu(name="Who")
    async def who(interaction: discord.Interaction, member: discord.Member) -> None:
        perms = member.guild_permissions if isinstance(member, discord.Member) else None
        await interaction.response.send_message(f"{member.name} admin={perms and perms.administrator}")

    @bot.listen("on_message")
    async def on_message(message: discord.Message) -> None:
        if message.author == bot.user:
            return
        bot.seen_contents.append(message.content)
        if message.guild is None:
            await message.channel.send(f"dm:{message.content}")
        elif bot.user in message.mentions:
            await message.add_reaction("👀")
            async with message.channel.typing():
                pass
            await message.reply("on it <@&1> @everyone", allowed_mentions=discord.AllowedMentions.none())
            if "thread" in message.content:
                thread = await message.create_thread(name="discussion")
                await thread.send("in the thread")

    return bot


async def sync_guild(bot: commands.Bot, fake: FakeDiscord) -> list:
    guild = discord.Object(fake.guild_id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)


# ------------------------------------------------------------------------------------------ login / READY


async def test_login_ready_and_guild_available():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            assert bot.user.id == fake.bot_id and bot.application_id == fake.application_id
            guild = bot.get_guild(fake.guild_id)
            assert guild is not None and not guild.unavailable and guild.name == "Test Guild"
            assert [c.name for c in guild.text_channels] == ["general", "help"]
            assert guild.me is not None and guild.me.guild_permissions.send_messages
            assert guild.default_role.id == guild.id
            assert fake.intents.message_content and fake.intents.guilds and not fake.intents.members
            paths = [(r.method, r.path) for r in fake.requests]
            assert ("GET", "/users/@me") in paths and ("GET", "/oauth2/applications/@me") in paths
            # the exact header discord.py needs to parse JSON
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot test-token"}) as r:
                    assert r.headers["Content-Type"] == "application/json"
        assert bot.is_closed()
        fake.assert_clean()


async def test_fixture_patches_discord_py(fake_discord):
    assert discord.http.Route.BASE == fake_discord.api_base
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == fake_discord.gateway_url
    with fake_discord.patched_discord():
        pass
    assert discord.http.Route.BASE == fake_discord.api_base  # nested use restores the outer value


def test_discord_py_is_not_left_patched():
    assert discord.http.Route.BASE == "https://discord.com/api/v10"
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == "wss://gateway.discord.gg/"


async def test_bad_token_is_a_login_failure():
    async with FakeDiscord(token="right") as fake:
        with pytest.raises(discord.LoginFailure):
            async with fake.running(make_bot(), token="wrong"):
                pass
        assert [(r.path, r.status) for r in fake.rejected] == [("/users/@me", 401)]
        assert fake.rejected[0].response == {"message": "401: Unauthorized", "code": 0}


async def test_disallowed_privileged_intent_is_rejected_by_the_gateway():
    async with FakeDiscord(privileged_intents=0) as fake:
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with fake.running(make_bot(message_content=True)):
                pass


async def test_gateway_disconnect_is_resumed():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            await fake.disconnect_sessions(code=4000)
            await fake.wait_for(lambda: fake.resumes == 1, what="a RESUME")
            inter = await fake.send_slash_command("ping")
            assert (await fake.wait_interaction_response(inter)).content == "pong"
        assert fake.gateway_connections == 2 and len(fake.identifies) == 1


# ------------------------------------------------------------------------------------------ commands


async def test_guild_sync_is_recorded_and_survives_a_restart():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            synced = await sync_guild(bot, fake)
        assert len(fake.command_syncs) == 1
        sync = fake.command_syncs[0]
        assert sync.guild_id == fake.guild_id
        assert {c["name"] for c in sync.request} == {"ping", "slow", "ask", "config", "long", "Quote message", "Who"}
        assert sorted(c.id for c in synced) == sorted(int(c["id"]) for c in sync.commands)
        assert all(int(c["application_id"]) == fake.application_id for c in sync.commands)
        config = next(c for c in fake.registered_commands() if c["name"] == "config")
        assert config["default_member_permissions"] == str(Perm.MANAGE_GUILD)

        restarted = make_bot()  # a new process would not sync again; the commands stay registered
        async with fake.running(restarted):
            inter = await fake.send_slash_command("ping")
            assert (await fake.wait_interaction_response(inter)).content == "pong"
        assert len(fake.command_syncs) == 1
        assert fake.gateway_connections == 2
        fake.assert_clean()


async def test_invalid_command_payload_is_rejected_like_discord():
    async with FakeDiscord() as fake:
        bot = make_bot()

        @bot.tree.command(name="bad", description="Bad localization key")
        @app_commands.describe(x="x")
        async def bad(interaction: discord.Interaction, x: str) -> None: ...

        async with fake.running(bot):
            payload = [c.to_dict(bot.tree) for c in bot.tree.get_commands()]
            bad_cmd = next(c for c in payload if c["name"] == "bad")
            bad_cmd["name_localizations"] = {"hi": "पूछें", "es-ES": "malo"}  # Devanagari vowel signs are fine
            await bot.http.bulk_upsert_global_commands(bot.application_id, payload)
            for bad_localizations in ({"es": "malo"}, {"es-ES": "Malo"}):  # Discord wants "es-ES", lower case
                bad_cmd["name_localizations"] = bad_localizations
                with pytest.raises(discord.HTTPException) as info:
                    await bot.http.bulk_upsert_global_commands(bot.application_id, payload)
                assert info.value.code == 50035 and "name_localizations" in str(info.value)
        assert len(fake.command_syncs) == 1


async def test_slash_command_round_trip_ephemeral():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            inter = await fake.send_slash_command("ping", user="alice")
            resp = await fake.wait_interaction_response(inter)
            async with aiohttp.ClientSession() as http:  # a second acknowledgement is refused
                url = f"{fake.api_base}/interactions/{inter.id}/{inter.token}/callback"
                async with http.post(url, json={"type": 4, "data": {"content": "again"}}) as r:
                    assert r.status == 400 and (await r.json())["code"] == 40060
        assert resp.response_type == 4 and not resp.deferred
        assert resp.content == "pong" and resp.ephemeral
        assert resp.original.flags & 64
        assert inter.payload["member"]["user"]["username"] == "alice"
        assert len(inter.callbacks) == 1 and len(inter.rejected) == 1


async def test_deferred_command_with_followup_and_locale():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            inter = await fake.send_slash_command("slow", {"question": "¿OpenAI usa vLLM?"}, locale="es-ES")
            resp = await fake.wait_interaction_response(inter)
        assert resp.response_type == 5 and resp.deferred and not resp.ephemeral
        assert resp.content == "answer to ¿OpenAI usa vLLM? (es-ES)"
        # the first followup replaced the "thinking" message
        assert len(resp.messages) == 1 and not resp.messages[0].loading
        assert inter.payload["data"]["options"] == [{"type": 3, "name": "question", "value": "¿OpenAI usa vLLM?"}]
        fake.assert_clean()


async def test_first_followup_keeps_the_ephemeral_defer_and_buttons_work():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            inter = await fake.send_slash_command("slow", {"question": "q", "private": True})
            await fake.wait_for(lambda: len(inter.messages) == 2, what="two messages")
            first, second = inter.messages
            assert first.ephemeral and first.id == inter.original.id  # followup without ephemeral=True
            assert second.kind == "followup" and not second.ephemeral and second.components
            click = await fake.send_component(second, "helpful", user="manager")
            assert (await fake.wait_interaction_response(click)).content == "thanks manager"
            close = await fake.send_component(second, "close")
            await fake.wait_interaction_response(close)
            assert close.response_type == 6 and second.content == "closed" and second.components == []
        assert inter.payload["data"]["options"][1] == {"type": 5, "name": "private", "value": True}
        fake.assert_clean()


async def test_dm_slash_command_needs_a_global_command():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            with pytest.raises(CommandUnavailable, match="DMs"):
                await fake.send_slash_command("ping", dm=True)
            await bot.tree.sync()
            inter = await fake.send_slash_command("ping", dm=True, user="alice")
            assert (await fake.wait_interaction_response(inter)).content == "pong"
        assert inter.payload["context"] == 1 and "guild_id" not in inter.payload
        assert [s.guild_id for s in fake.command_syncs] == [fake.guild_id, None]


async def test_autocomplete_choices():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            choices = await fake.send_autocomplete("ask", "topic", "deep")
            assert choices == [{"name": "deepseek", "value": "deepseek"},
                               {"name": "deep learning", "value": "deep learning"}]
            inter = await fake.send_slash_command("ask", {"topic": "vllm"})
            assert (await fake.wait_interaction_response(inter)).content == "topic=vllm"


async def test_message_context_menu_gets_the_resolved_message():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            target = await fake.send_message("help", "vLLM is fast", author="manager")
            inter = await fake.send_message_command("Quote message", target)  # a name with a space
            resp = await fake.wait_interaction_response(inter)
            who = await fake.send_user_command("Who", "admin")
            assert (await fake.wait_interaction_response(who)).content == "admin admin=True"
        assert resp.content == "> vLLM is fast" and resp.ephemeral


async def test_commands_the_client_would_not_offer_are_refused():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            with pytest.raises(CommandUnavailable):
                await fake.send_slash_command("config", user="alice")
            with pytest.raises(CommandUnavailable):
                await fake.send_slash_command("nope")
            with pytest.raises(ValueError):
                await fake.send_slash_command("slow", {})  # missing required option
            for user in ("manager", "admin", "owner"):
                inter = await fake.send_slash_command("config", user=user)
                assert (await fake.wait_interaction_response(inter)).content == "configured"
            inter = await fake.send_slash_command("config", user="alice", permissions=Perm.MANAGE_GUILD)
            assert (await fake.wait_interaction_response(inter)).content == "configured"


async def test_answers_discord_would_reject_fail_the_wait(error_log):
    error_log.expect(r"Ignoring exception in command 'long'")
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await sync_guild(bot, fake)
            inter = await fake.send_slash_command("long")
            with pytest.raises(InteractionRejected, match="2000 or fewer"):
                await fake.wait_interaction_response(inter)
        assert inter.rejected[0].status == 400 and inter.callbacks == []


async def test_late_acknowledgement_is_an_unknown_interaction(error_log):
    error_log.expect(r"Ignoring exception in command 'late'")
    async with FakeDiscord(interaction_ack_timeout=0.05) as fake:
        bot = make_bot()

        @bot.tree.command(name="late", description="Too slow to answer")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.15)
            await interaction.response.send_message("too late")

        async with fake.running(bot):
            await sync_guild(bot, fake)
            inter = await fake.send_slash_command("late")
            with pytest.raises(InteractionRejected, match="10062"):
                await fake.wait_interaction_response(inter)


# ------------------------------------------------------------------------------------------ messages


async def test_mention_reply_reaction_typing_and_thread():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            msg = await fake.send_message("general", "hey <@bot> does deepseek use vllm? thread please")
            assert msg["mentions"][0]["id"] == str(fake.bot_id)
            reply = await fake.wait_channel_message("general")
            in_thread = await fake.wait_channel_message()
        assert reply.content.startswith("on it")
        assert reply.message_reference["message_id"] == msg["id"]
        assert reply.allowed_mentions == {"parse": []}  # discord.py omits replied_user when False
        assert not reply.pings.anyone  # "@everyone" and the role mention are inert
        assert fake.reactions[0].emoji == "👀" and fake.reactions[0].message_id == int(msg["id"])
        assert fake.typing == [int(fake.get_channel("general")["id"])]
        [thread] = fake.threads_created
        assert thread["id"] == msg["id"] and thread["name"] == "discussion"
        assert in_thread.channel_id == int(thread["id"]) and in_thread.content == "in the thread"
        assert bot.seen_contents == [msg["content"]]  # the bot's own (echoed) messages were ignored
        fake.assert_clean()


async def test_reply_without_allowed_mentions_would_ping():
    async with FakeDiscord() as fake:
        bot = make_bot()

        @bot.listen("on_message")
        async def shout(message: discord.Message) -> None:
            if message.content == "shout":
                await message.channel.send("@everyone look", reference=message)

        async with fake.running(bot):
            await fake.send_message("general", "shout")
            sent = await fake.wait_channel_message("general")
        assert sent.pings.everyone and sent.pings.replied_user


async def test_message_content_needs_the_intent_unless_mentioned():
    async with FakeDiscord() as fake:
        bot = make_bot(message_content=False)
        async with fake.running(bot):
            await fake.send_message("general", "secret words")
            await fake.send_message("general", "<@bot> visible words")
            await fake.wait_channel_message("general")
            await fake.send_dm("dm words")
            dm_reply = await fake.wait_channel_message()
        assert bot.seen_contents == ["", f"<@{fake.bot_id}> visible words", "dm words"]
        assert dm_reply.content == "dm:dm words"


async def test_no_reply_and_missing_permission(error_log):
    error_log.expect(r"Ignoring exception in on_message")
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            await fake.send_message("general", "nobody mentioned the bot")
            await fake.expect_no_channel_message("general", within=0.2)
            await fake.set_permission_overwrite("help", "bot", deny=Perm.SEND_MESSAGES)
            await fake.send_message("help", "<@bot> hello?")
            await fake.wait_for(lambda: any(r.status == 403 for r in fake.rejected), what="a 403")
        assert fake.channel_messages == []
        forbidden = next(r for r in fake.rejected if r.status == 403)
        help_id = fake.get_channel("help")["id"]
        assert forbidden.response["code"] == 50013 and forbidden.path == f"/channels/{help_id}/typing"


async def test_unknown_routes_are_recorded():
    async with FakeDiscord() as fake:
        bot = make_bot()
        async with fake.running(bot):
            with pytest.raises(discord.NotFound):
                await bot.http.request(discord.http.Route("GET", "/stickers/{sticker_id}", sticker_id=1))
        assert [(r.method, r.path) for r in fake.unhandled] == [("GET", "/stickers/1")]
        with pytest.raises(AssertionError, match="unhandled"):
            fake.assert_clean()


# ------------------------------------------------------------------------------------------ guards


async def test_error_log_capture_collects_handler_exceptions(error_log):
    error_log.expect("boom in handler")  # the autouse fixture sees the record too
    capture = ErrorLogCapture()
    async with FakeDiscord() as fake:
        bot = make_bot()

        @bot.listen("on_message")
        async def explode(message: discord.Message) -> None:
            if message.author != bot.user:
                raise RuntimeError("boom in handler")

        with capture:
            async with fake.running(bot):
                await fake.send_message("general", "anything")
                await fake.wait_for(lambda: capture.records, what="an ERROR record")
    assert "boom in handler" in capture._text(capture.records[0])
    with pytest.raises(pytest.fail.Exception, match="boom in handler"):
        capture.check()
    capture.expect("boom in handler")
    capture.check()


def test_error_log_fixture_fails_a_test_at_teardown(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent("""
        import logging
        from tests.fake_discord import error_log

        def test_logs_an_error():
            logging.getLogger("discord.client").error("Ignoring exception in on_message")

        def test_expected_error(error_log):
            error_log.expect("on purpose")
            logging.getLogger("x").error("on purpose")
    """))
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 1 and "2 passed" in summary and "1 error" in summary, proc.stdout + proc.stderr
    assert "ERROR at teardown of test_logs_an_error" in proc.stdout
    assert "Ignoring exception in on_message" in proc.stdout


@pytest.mark.parametrize("host", ["10.255.255.1", "example.com", "2001:db8::1"])
def test_network_guard_blocks_non_loopback_at_once(network_guard, host):
    before = len(network_guard_violations())
    start = time.monotonic()
    with pytest.raises(BlockedNetworkError):
        socket.create_connection((host, 80), timeout=5)
    if host[0].isdigit():  # a raw connect skips getaddrinfo
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as raw, pytest.raises(BlockedNetworkError):
            raw.connect((host, 80))
        with socket.socket(family, socket.SOCK_DGRAM) as udp, pytest.raises(BlockedNetworkError):
            udp.sendto(b"x", (host, 53))
    assert time.monotonic() - start < 0.5
    assert len(network_guard_violations()) == before + (3 if host[0].isdigit() else 1)


async def test_network_guard_blocks_asyncio_and_aiohttp_but_not_loopback(network_guard):
    start = time.monotonic()
    with pytest.raises(BlockedNetworkError):
        await asyncio.open_connection("10.255.255.1", 443)
    with pytest.raises((BlockedNetworkError, aiohttp.ClientConnectorError)):
        async with aiohttp.ClientSession() as http:
            await http.get("http://example.com/")
    assert time.monotonic() - start < 0.5
    async with FakeDiscord() as fake:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{fake.api_base}/gateway") as r:
                assert r.status == 200
