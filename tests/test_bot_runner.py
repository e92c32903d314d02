"""`python -m bot run` as an operator runs it: a real process, the token from the environment, the fake as Discord."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.config import load_config
from bot.discord_app.runner import HANDLER_NAME, RedactToken, run_bot
from tests.bot_harness import ENGLISH_QUESTION, SPANISH_QUESTION, reply_to
from tests.fake_discord import FakeDiscord

TOKEN = "MTIzNDU2Nzg5.secret-test-token.abcdef"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    level = root.level
    yield
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(level)


def write_config(folder: Path, fake: FakeDiscord, **extra: str) -> Path:
    lines = [
        "notes:",
        f"  folders: [{REPO / 'bot' / 'notes'}]",
        "discord:",
        f"  api_url: {fake.api_base}",
        f"  gateway_url: {fake.gateway_url}",
        "  data_dir: state",
        *(f"  {k}: {v}" for k, v in extra.items()),
        "logging:",
        "  level: DEBUG",  # the noisiest level: the token must not show up even there
    ]
    path = folder / "bot.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


PYTHON_M_BOT = (sys.executable, "-m", "bot")
NOTES_BOT_SCRIPT = (str(Path(sys.executable).with_name("notes-bot")),)  # the installed console script


async def start(config: Path, cwd: Path, token: str | None,
                command: tuple[str, ...] = PYTHON_M_BOT) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return await asyncio.create_subprocess_exec(
        *command, "run", "--config", str(config),
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_python_m_bot_run_against_the_fake(tmp_path):
    async with FakeDiscord(token=TOKEN) as fake:
        config = write_config(tmp_path, fake)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        process = await start(config, elsewhere, TOKEN)  # any working directory
        try:
            await fake.wait_for(lambda: fake.identifies, timeout=10, what="the bot to identify")
            await fake.wait_ready()
            await fake.wait_for(lambda: fake.command_syncs, what="the command sync")
            assert {c["name"] for c in fake.registered_commands(global_=True)} == {
                "ask", "Answer from notes", "reload", "help", "unanswered", "stats"}
            inter = await fake.send_slash_command("ask", {"question": SPANISH_QUESTION}, locale="es-ES")
            assert "Respuesta en español" in (await reply_to(fake, inter)).text
            await fake.send_message("general", f"<@bot> {ENGLISH_QUESTION}")
            reply = await fake.wait_channel_message("general")
            assert "DeepSeek" in reply.text and not reply.pings.anyone
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 10)
        output = (stdout + stderr).decode()
        assert process.returncode == 0, output
        assert TOKEN not in output
        assert "Traceback" not in output
        assert "voice will NOT be supported" not in output  # no PyNaCl / davey warnings: the bot never joins voice
        assert (tmp_path / "state" / "command-tree.json").exists()  # next to the config, not in the package
        fake.assert_clean()


async def test_rejected_token_is_one_clear_line_and_exit_2(tmp_path):
    async with FakeDiscord(token=TOKEN) as fake:
        process = await start(write_config(tmp_path, fake), tmp_path, "wrong-token")
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    text = stderr.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text and "wrong-token" not in text
    assert text.strip().splitlines()[-1] == (
        "notes-bot: Discord rejected the token in DISCORD_TOKEN: copy it again from the Developer Portal "
        "(Bot → Reset Token)")


async def test_missing_intent_permission_is_one_clear_line(tmp_path):
    async with FakeDiscord(token=TOKEN, privileged_intents=0) as fake:
        config = write_config(tmp_path, fake, channels=f"[{fake.get_channel('help')['id']}]")
        process = await start(config, tmp_path, TOKEN)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    text = stderr.decode()
    assert process.returncode == 2, text
    assert "Traceback" not in text and TOKEN not in text
    assert "Message Content intent" in text.strip().splitlines()[-1]


def test_missing_token_is_one_clear_line_and_exit_2(monkeypatch, capsys, restore_logging):
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    assert run_bot(load_config()) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["notes-bot: no bot token: set the DISCORD_TOKEN environment variable to the token of "
                   "your Discord application's bot"]


async def test_broken_config_does_not_start(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("discord:\n  chanels: [1]\n", encoding="utf-8")
    process = await start(config, tmp_path, TOKEN)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 2
    assert "unknown key 'discord.chanels'" in stderr.decode()


def test_the_token_is_redacted_from_any_log_record():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", (f"Bot {TOKEN}",), None)
    assert RedactToken(TOKEN).filter(record)
    assert record.getMessage() == "sent Bot [token]"
