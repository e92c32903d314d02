"""The buttons under answers, the journal behind them and the admins' reports, end to end against the fake Discord."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import sqlite3
import stat
import struct
from dataclasses import replace

import pytest

from bot.config import JournalConfig
from tests.bot_harness import ENGLISH_QUESTION, SPANISH_QUESTION, make_config, replies_to, reply_to, running_bot
from tests.fake_discord import CommandUnavailable, FakeDiscord

UNKNOWN_QUESTION = "What is the capital of Mongolia?"


def buttons(message) -> dict[str, dict]:
    """custom_id → button component, over every action row of a message."""
    return {c["custom_id"]: c for row in message.components for c in row["components"]}


def journal_rows(bot):
    return bot.journal.rows(0).result(timeout=5)


async def settled(bot) -> None:
    """Wait until the journal has written what is queued (a read queued after them)."""
    await asyncio.wrap_future(bot.journal.rows(0))


async def ask(fake: FakeDiscord, question: str, **kw):
    inter = await fake.send_slash_command("ask", {"question": question}, **kw)
    return inter, await reply_to(fake, inter)


async def click(fake: FakeDiscord, message, custom_id: str, user: str = "alice", locale: str = "en-US"):
    inter = await fake.send_component(message, custom_id, user=user, locale=locale)
    return await reply_to(fake, inter)


@pytest.fixture
async def online(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path)
        async with running_bot(fake, config) as bot:
            yield fake, bot, config
        fake.assert_clean()


async def test_an_answer_has_votes_show_in_and_delete_and_is_journaled(online):
    fake, bot, _ = online
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    ids = set(buttons(answer))
    alice = fake.get_user("alice")["id"]
    # The English note has a Spanish translation: one "Show in" button, for Spanish only.
    assert ids == {f"nb:vote:{inter.id}:up", f"nb:vote:{inter.id}:down", f"nb:show:{inter.id}:es", f"nb:del:{alice}"}
    assert buttons(answer)[f"nb:show:{inter.id}:es"]["label"] == "Show in Spanish"
    await settled(bot)
    [row] = journal_rows(bot)
    assert (row.id, row.via, row.question, row.question_lang, row.answered, row.answer_lang, row.guild_id) == (
        inter.id, "slash", ENGLISH_QUESTION, "en", True, "en", fake.guild_id)
    assert row.source_path == "notes/vllm-adoption-ai-providers-en.md" and row.channel_kind == "text"


def voters_identified(votes: list[str], keys: list[bytes], question_id: int, member_ids) -> set[int]:
    """What an attacker recomputes: every member's hash under every candidate key, matched to the votes."""
    return {member for key in keys for member in member_ids
            if "h" + hmac.new(key, f"{question_id}:{member}".encode(), hashlib.sha256).hexdigest()[:24] in votes}


async def test_the_journal_file_with_every_member_id_does_not_tell_who_voted(online):
    fake, bot, config = online
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    await click(fake, answer, f"nb:vote:{inter.id}:up", user="alice")
    await click(fake, answer, f"nb:vote:{inter.id}:down", user="owner")
    await settled(bot)
    voters = {int(fake.get_user("alice")["id"]), int(fake.get_user("owner")["id"])}
    members = list(fake.users)  # every member can list the others
    # Everything a copy of the journal holds: every value of every table, and every run of hex
    # digits in its bytes (the database and its write-ahead log), each tried as the key.
    db = sqlite3.connect(f"file:{config.journal_path}?mode=ro", uri=True)
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    values = [v for t in tables for row in db.execute(f"SELECT * FROM {t}") for v in row]
    votes = [voter for (voter,) in db.execute("SELECT voter FROM votes")]
    db.close()
    raw = b"".join(p.read_bytes() for p in config.journal_path.parent.glob(config.journal_path.name + "*"))
    candidates = [bytes.fromhex(h.decode()) for h in re.findall(rb"[0-9a-f]{64}", raw)]
    candidates += [v.encode() if isinstance(v, str) else v for v in values if isinstance(v, str | bytes)]
    assert len(votes) == 2 and "settings" not in tables
    assert not voters_identified(votes, candidates, inter.id, members)
    # The key is in its own file, for the bot's user only; with it, both votes are traced (the
    # attack above is the right one, the key is what it lacks).
    key_file = config.voter_key_path
    assert key_file.parent == config.discord.data_dir and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert voters_identified(votes, [bytes.fromhex(key_file.read_text())], inter.id, members) == voters


async def test_votes_are_recorded_once_per_user_and_a_new_vote_replaces_the_old(online):
    fake, bot, _ = online
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    thanks = await click(fake, answer, f"nb:vote:{inter.id}:up")
    assert thanks.ephemeral and "Thanks" in thanks.text
    await click(fake, answer, f"nb:vote:{inter.id}:up")  # the same vote again counts once
    await click(fake, answer, f"nb:vote:{inter.id}:down", user="owner")
    [row] = journal_rows(bot)
    assert (row.up, row.down) == (1, 1)
    await click(fake, answer, f"nb:vote:{inter.id}:down")  # alice changes her mind
    [row] = journal_rows(bot)
    assert (row.up, row.down) == (0, 2)


async def test_delete_is_for_the_asker_only(online):
    fake, _, _ = online
    _, answer = await ask(fake, ENGLISH_QUESTION, user="alice")
    alice = fake.get_user("alice")["id"]
    refused = await click(fake, answer, f"nb:del:{alice}", user="owner", locale="es-ES")
    assert refused.ephemeral and refused.text == "Solo quien hizo la pregunta puede borrar esta respuesta."
    assert not answer.deleted
    await fake.send_component(answer, f"nb:del:{alice}", user="alice")
    await fake.wait_for(lambda: answer.deleted, what="the answer to be deleted")


async def test_show_in_gives_the_other_translation(online):
    fake, _, _ = online
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    assert "Yes" in answer.text and "Sí" not in answer.text
    shown = await click(fake, answer, f"nb:show:{inter.id}:es")
    assert shown.ephemeral  # for the one who clicked
    assert "Sí" in shown.text and "DeepSeek" in shown.text and "Respuesta en español" in shown.text


async def test_i_dont_know_has_no_buttons_but_is_journaled_as_unanswered(online):
    fake, bot, _ = online
    _, reply = await ask(fake, UNKNOWN_QUESTION)
    assert "I don't know" in reply.text and reply.components == []
    await settled(bot)
    [row] = journal_rows(bot)
    assert not row.answered and row.source_path is None and row.question == UNKNOWN_QUESTION


async def test_mentions_are_journaled_and_their_answers_carry_buttons(online):
    fake, bot, _ = online
    sent = await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
    reply = await fake.wait_channel_message("general")
    assert f"nb:vote:{sent['id']}:up" in buttons(reply)
    await settled(bot)
    [row] = journal_rows(bot)
    assert (row.id, row.via, row.question) == (int(sent["id"]), "mention", ENGLISH_QUESTION)


async def test_buttons_keep_working_after_a_restart(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path)
        async with running_bot(fake, config):
            inter, answer = await ask(fake, ENGLISH_QUESTION)
        async with running_bot(fake, config) as bot:  # a new process: no view object survives
            await click(fake, answer, f"nb:vote:{inter.id}:down")
            assert [(r.up, r.down) for r in journal_rows(bot)] == [(0, 1)]
            shown = await click(fake, answer, f"nb:show:{inter.id}:es")
            assert "Sí" in shown.text
        fake.assert_clean()


async def test_without_the_journal_only_delete_is_offered_and_nothing_is_written(tmp_path):
    async with FakeDiscord() as fake:
        config = replace(make_config(tmp_path), journal=JournalConfig(enabled=False))
        async with running_bot(fake, config) as bot:
            assert bot.journal is None
            _, answer = await ask(fake, ENGLISH_QUESTION)
            assert list(buttons(answer)) == [f"nb:del:{fake.get_user('alice')['id']}"]
            inter = await fake.send_slash_command("stats", user="admin")
            assert "journal is turned off" in (await reply_to(fake, inter)).text
        assert not config.journal_path.exists()


@pytest.mark.parametrize("store_user_ids", [False, True])
async def test_user_ids_are_stored_only_when_switched_on(tmp_path, store_user_ids):
    async with FakeDiscord() as fake:
        config = replace(make_config(tmp_path), journal=JournalConfig(store_user_ids=store_user_ids))
        async with running_bot(fake, config) as bot:
            inter, answer = await ask(fake, ENGLISH_QUESTION, user="alice")
            await click(fake, answer, f"nb:vote:{inter.id}:up", user="alice")
            [row] = journal_rows(bot)
            assert row.up == 1
        # Closed (flushed): read the files themselves, database and write-ahead log.
        data = b"".join(p.read_bytes() for p in config.journal_path.parent.glob("journal.sqlite3*"))
        alice = int(fake.get_user("alice")["id"])
        as_integer = struct.pack(">q", alice)  # how SQLite stores a snowflake in a record
        as_text = str(alice).encode()  # how the vote key would carry it
        assert ENGLISH_QUESTION.encode() in data
        assert (as_integer in data) is store_user_ids and (as_text in data) is store_user_ids


# --------------------------------------------------------------------------- the admins' reports


async def test_reports_are_refused_to_members(online):
    fake, _, _ = online
    for name in ("unanswered", "stats"):
        with pytest.raises(CommandUnavailable):  # hidden from members by default
            await fake.send_slash_command(name, user="alice")
    commands = fake.registered_commands(global_=True)
    for command in commands:
        command["default_member_permissions"] = None  # a server opened them to everyone: the bot still checks
    fake.register_commands(commands, global_=True)
    for name in ("unanswered", "stats"):
        inter = await fake.send_slash_command(name, user="alice", locale="de")
        reply = await reply_to(fake, inter)
        assert reply.ephemeral and reply.text == "Nur Server-Admins können die Berichte sehen."


async def test_unanswered_groups_similar_questions_and_includes_down_voted_answers(online):
    fake, bot, _ = online
    for question in ("What is the capital of Mongolia?", "what is the capital of mongolia", "Capital of Mongolia?",
                     "How tall is Mount Everest?"):
        await ask(fake, question)
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    await click(fake, answer, f"nb:vote:{inter.id}:down")
    report = await reply_to(fake, await fake.send_slash_command("unanswered", {"days": 3}, user="manager"))
    assert report.ephemeral
    [embed] = report.embeds
    assert embed["title"] == "Unanswered questions, last 3 days"
    names = [f["name"] for f in embed["fields"]]
    assert names[0].startswith("3× · 3 unanswered · 0 down-voted")
    assert "What is the capital of Mongolia?" in embed["fields"][0]["value"]
    assert any(name.startswith("1× · 0 unanswered · 1 down-voted") for name in names)
    assert "vLLM Adoption by AI Providers" in report.text and "Mount Everest" in report.text


async def test_stats_counts_per_day_with_a_chart(online):
    fake, _, _ = online
    await ask(fake, ENGLISH_QUESTION)
    await ask(fake, SPANISH_QUESTION, locale="es-ES")
    await ask(fake, UNKNOWN_QUESTION)
    inter = await fake.send_slash_command("stats", {"days": 7}, user="admin")
    [report] = await replies_to(fake, inter)
    assert report.ephemeral
    assert "3 questions, 2 answered (67%)" in report.text
    assert "English: 2" in report.text and "Spanish: 1" in report.text
    [attachment] = report.message["attachments"]
    assert attachment["filename"] == "questions-per-day.png"
    [data] = [f["data"] for request in fake.requests for f in request.files]  # the bytes as uploaded
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width > 7 and height > 0
    assert report.embeds[-1]["image"]["url"] == "attachment://questions-per-day.png"


async def test_a_deferred_answer_carries_its_buttons_too(online):
    fake, bot, _ = online
    bot.defer_after = 0  # always "thinking…" first: the answer then comes as a followup
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    assert inter.deferred and f"nb:vote:{inter.id}:up" in buttons(answer)


async def test_a_broken_journal_answers_the_click_and_logs_one_warning(online, caplog):
    fake, bot, _ = online
    inter, answer = await ask(fake, ENGLISH_QUESTION)
    bot.journal.close()  # the journal's thread is gone: the vote fails
    reply = await click(fake, answer, f"nb:vote:{inter.id}:up")
    assert reply.ephemeral and "Something went wrong" in reply.text
    assert "Journal unavailable for a button click" in caplog.text


async def test_in_a_busy_channel_only_questions_go_to_the_journal(tmp_path):
    async with FakeDiscord() as fake:
        config = make_config(tmp_path, channels=(fake.channel_id,), trigger="every")
        async with running_bot(fake, config) as bot:
            await fake.send_message("general", "lunch at noon, everyone")  # answered by nobody, asked by nobody
            await fake.send_message("general", UNKNOWN_QUESTION)
            sent = await fake.send_message("general", ENGLISH_QUESTION)
            reply = await fake.wait_channel_message("general")
            assert f"nb:vote:{sent['id']}:up" in buttons(reply)
            await fake.wait_for(lambda: len(journal_rows(bot)) >= 2, what="both questions in the journal")
            rows = journal_rows(bot)
            assert [(r.question, r.via, r.answered) for r in rows] == [
                (UNKNOWN_QUESTION, "channel", False), (ENGLISH_QUESTION, "channel", True)]
        fake.assert_clean()


async def test_button_labels_speak_the_askers_language(online):
    fake, _, _ = online
    inter, answer = await ask(fake, SPANISH_QUESTION, locale="es-ES")
    labels = {c["custom_id"]: c.get("label") for c in buttons(answer).values()}
    alice = fake.get_user("alice")["id"]
    assert labels == {f"nb:vote:{inter.id}:up": None, f"nb:vote:{inter.id}:down": None,
                      f"nb:show:{inter.id}:en": "Ver en inglés", f"nb:del:{alice}": "Borrar"}
    shown = await click(fake, answer, f"nb:show:{inter.id}:en", user="owner")  # anyone may look
    assert "Yes" in shown.text and "Answer in English" in shown.text


async def test_without_kept_text_there_is_nothing_to_show_in_another_language(tmp_path):
    async with FakeDiscord() as fake:
        config = replace(make_config(tmp_path), journal=JournalConfig(retention_days=0))
        async with running_bot(fake, config) as bot:
            inter, answer = await ask(fake, ENGLISH_QUESTION)
            assert not any(custom_id.startswith("nb:show:") for custom_id in buttons(answer))
            await click(fake, answer, f"nb:vote:{inter.id}:up")  # votes still count
            [row] = journal_rows(bot)
            assert (row.question, row.up) == (None, 1)
        fake.assert_clean()
