"""/reload end to end: who may run it, the new answer after an edit, broken notes, failures, concurrency."""
from __future__ import annotations

import asyncio
import re
import shutil

import pytest

from tests.bot_harness import (
    ENGLISH_QUESTION,
    command_named,
    copy_bundled_notes,
    make_config,
    replies_to,
    reply_to,
    running_bot,
)
from tests.fake_discord import CommandUnavailable, FakeDiscord

EN_NOTE = "notes/vllm-adoption-ai-providers-en.md"
NEW_DEEPSEEK = "DeepSeek moved its whole fleet to the Zephyr serving stack in 2031."


def allow_everyone(fake: FakeDiscord, name: str) -> None:
    """What a server admin does in Server Settings → Integrations: let @everyone see a command."""
    commands = fake.registered_commands(global_=True)
    command_named(commands, name)["default_member_permissions"] = None
    fake.register_commands(commands, global_=True)


def edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
async def online(tmp_path):
    notes = copy_bundled_notes(tmp_path)
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, folders=(notes,), admin_role_ids=(), admin_user_ids=())
        async with running_bot(fake, config) as bot:
            yield fake, bot, notes
        fake.assert_clean()


async def ask(fake: FakeDiscord, question: str, **kw) -> str:
    inter = await fake.send_slash_command("ask", {"question": question}, **kw)
    return (await reply_to(fake, inter)).text


async def reload(fake: FakeDiscord, user: str = "manager", locale: str = "en-US"):
    inter = await fake.send_slash_command("reload", user=user, locale=locale)
    [message] = await replies_to(fake, inter)
    assert message.ephemeral
    return message


async def test_reload_is_hidden_from_members_and_refused_at_run_time(online):
    fake, _, _ = online
    with pytest.raises(CommandUnavailable):  # default member permissions: alice does not even see it
        await fake.send_slash_command("reload", user="alice")
    allow_everyone(fake, "reload")  # a server opened it to everyone: the bot still checks
    message = await reload(fake, user="alice", locale="es-ES")
    assert message.content == "Solo los administradores del servidor pueden recargar las notas."
    assert "Notes reloaded" in (await reload(fake, user="admin")).text  # Administrator
    assert "Notes reloaded" in (await reload(fake, user="manager")).text  # Manage Server


async def test_configured_admin_roles_and_users(tmp_path):
    async with FakeDiscord() as fake:
        helper = await fake.add_member("helper", roles=())
        role_member = await fake.add_member("moderator", permissions=0x2000)  # Manage Messages only
        role_id = int(role_member["roles"][0])
        config = make_config(tmp_path, admin_role_ids=(role_id,), admin_user_ids=(int(helper["user"]["id"]),))
        async with running_bot(fake, config):
            allow_everyone(fake, "reload")
            assert "Notes reloaded" in (await reload(fake, user="helper")).text
            assert "Notes reloaded" in (await reload(fake, user="moderator")).text
            assert "Only server admins" in (await reload(fake, user="alice")).text


async def test_reload_after_an_edit_gives_the_new_answer(online):
    fake, bot, notes = online
    assert "Zephyr" not in await ask(fake, ENGLISH_QUESTION)
    old_engine = bot.engine
    edit(notes / EN_NOTE, "DeepSeek has open-sourced a custom inference engine built directly on vLLM", NEW_DEEPSEEK)
    message = await reload(fake)
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert message.embeds[0]["title"] == "Notes reloaded"
    assert "2 notes loaded" in message.embeds[0]["description"]
    assert fields["Notes per language"] == "- English: 1\n- Spanish: 1"
    assert fields["Updated (1)"] == f"- `{EN_NOTE}`"
    assert bot.engine is not old_engine
    assert "Zephyr" in await ask(fake, ENGLISH_QUESTION)
    # Nothing changed since: said so.
    assert "No note changed." in (await reload(fake)).text


async def test_reload_report_in_the_admins_language(online):
    fake, _, notes = online
    (notes / "notes" / "new-note-en.md").write_text("---\ntitle: Ollama\n---\n\nOllama runs models locally.\n",
                                                    encoding="utf-8")
    message = await reload(fake, locale="de")
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert message.embeds[0]["title"] == "Notizen neu geladen"
    assert fields["Hinzugefügt (1)"] == "- `notes/new-note-en.md`"
    assert "Englisch: 2" in fields["Notizen pro Sprache"]


async def test_a_note_that_broke_keeps_the_old_index_and_is_reported(online):
    fake, bot, notes = online
    old_engine = bot.engine
    before = await ask(fake, ENGLISH_QUESTION)
    edit(notes / EN_NOTE, "title: vLLM Adoption by AI Providers", "title: [unclosed")
    edit(notes / EN_NOTE, "DeepSeek has open-sourced", "Zephyr has open-sourced")
    message = await reload(fake)
    embed = message.embeds[0]
    assert embed["title"] == "Reload cancelled: previous notes kept"
    [problems] = embed["fields"]
    assert problems["name"] == "Broken notes, skipped (1)"
    assert problems["value"].startswith(f"- {EN_NOTE}:") and "front matter" in problems["value"]
    assert bot.engine is old_engine
    assert await ask(fake, ENGLISH_QUESTION) == before


async def test_a_new_broken_note_is_reported_and_the_rest_reloads(online):
    fake, bot, notes = online
    old_engine = bot.engine
    (notes / "notes" / "broken-en.md").write_text("---\ntitle: [oops\n---\n\nbody\n", encoding="utf-8")
    message = await reload(fake)
    fields = {f["name"]: f["value"] for f in message.embeds[0]["fields"]}
    assert message.embeds[0]["title"] == "Notes reloaded"
    assert re.match(r"- notes/broken-en\.md:\d+: invalid YAML front matter", fields["Broken notes, skipped (1)"])
    assert bot.engine is not old_engine


async def test_a_failed_reload_keeps_the_old_index_and_says_why(online):
    fake, bot, notes = online
    old_engine = bot.engine
    shutil.rmtree(notes)  # the folder is gone (unmounted, renamed)
    message = await reload(fake)
    assert message.embeds[0]["title"] == "Reload cancelled: previous notes kept"
    assert "notes folder not found" in message.text
    assert bot.engine is old_engine
    assert "DeepSeek" in await ask(fake, ENGLISH_QUESTION)


async def test_two_reloads_run_one_after_the_other_and_questions_keep_working(online):
    fake, bot, notes = online
    edit(notes / EN_NOTE, "DeepSeek has open-sourced a custom inference engine built directly on vLLM", NEW_DEEPSEEK)
    first, second = await asyncio.gather(
        fake.send_slash_command("reload", user="manager"), fake.send_slash_command("reload", user="admin"))
    questions = [await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION}, user=u) for u in ("alice",
                                                                                                        "owner")]
    reports = [(await replies_to(fake, inter))[0].text for inter in (first, second)]
    assert sum("Updated (1)" in r for r in reports) == 1  # the second saw no change: they did not overlap
    assert sum("No note changed." in r for r in reports) == 1
    for inter in questions:  # answered from the old or the new index, never an error
        assert "DeepSeek" in (await reply_to(fake, inter)).text
    assert not bot.reload_lock.locked()
