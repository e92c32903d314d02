"""Helpers for the bot's end-to-end tests: the real engine, the real bot, the fake Discord.

Nothing is stubbed: `running_bot` builds `knowledge.Engine` from real notes
folders and runs `bot.discord_app.client.NotesBot` (with its cogs) against `tests.fake_discord`.
"""
from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.config import BUNDLED_NOTES, Config, CooldownConfig, DiscordConfig, NotesConfig
from bot.discord_app.client import NotesBot
from knowledge.engine import Engine
from knowledge.indexing import build_engine
from tests.fake_discord import FakeDiscord

SPANISH_QUESTION = "¿DeepSeek usa vLLM en producción?"
ENGLISH_QUESTION = "Does DeepSeek use vLLM in production?"


def copy_bundled_notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(BUNDLED_NOTES, folder)
    return folder


def make_config(tmp_path: Path, *, folders: tuple[Path, ...] | None = None, base_url: str | None = None,
                **discord_options: Any) -> Config:
    """A config like the bundled defaults, with state in tmp_path and a generous cooldown unless asked."""
    discord_options.setdefault("cooldown", CooldownConfig(rate=1000, per_seconds=1.0))
    return Config(
        notes=NotesConfig(folders=folders or (BUNDLED_NOTES,), base_url=base_url),
        discord=replace(DiscordConfig(data_dir=tmp_path / "state"), **discord_options),
    )


async def engine_for(config: Config) -> Engine:
    return await asyncio.to_thread(build_engine, config.notes.folders, config.engine_options())


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, config: Config) -> AsyncIterator[NotesBot]:
    """The real bot, engine built first (as `run_bot` does), online against the fake until the block ends."""
    bot = NotesBot(config, await engine_for(config))
    async with fake.running(bot):
        yield bot


def command_named(commands: list[dict], name: str, ctype: int = 1) -> dict:
    return next(c for c in commands if c["name"] == name and c.get("type", 1) == ctype)


async def replies_to(fake: FakeDiscord, interaction) -> list:
    """Every visible message the bot sent for an interaction (the "thinking" placeholder excluded)."""
    await fake.wait_interaction_response(interaction)
    return [m for m in interaction.messages if not m.loading]


async def reply_to(fake: FakeDiscord, interaction):
    """The first visible message the bot sent for an interaction (a `BotMessage`)."""
    return (await replies_to(fake, interaction))[0]

