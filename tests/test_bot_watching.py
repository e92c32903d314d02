"""`notes.watch: true`: the real bot, the real watcher (watchfiles), notes written to disk while it runs."""
from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.engine import Engine
from tests.bot_harness import copy_bundled_notes, make_config, running_bot
from tests.fake_discord import FakeDiscord

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 15.0  # "within seconds": the debounce is 1 s; a slow CI machine gets some slack

NOTE = """---
title: Zephyr serving stack
---

# Zephyr serving stack

The Zephyr serving stack batches requests across {what} and was released in 2031.
"""


async def until(check: Callable[[], bool], what: str) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > LIMIT:
            raise AssertionError(f"not within {LIMIT} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def paths(bot) -> set[str]:
    return {note.rel_path for note in bot.engine.notes}


@pytest.fixture
async def watched(tmp_path):
    notes = copy_bundled_notes(tmp_path)
    config = make_config(tmp_path, folders=(notes,))
    config = replace(config, notes=replace(config.notes, watch=True))
    async with FakeDiscord() as fake:
        async with running_bot(fake, config) as bot:
            watcher = bot.get_cog("NotesWatcher")
            assert watcher is not None  # (an extension is its own module object: no isinstance)
            await asyncio.sleep(0.3)  # the watcher task sets up its inotify watches
            yield bot, notes, watcher
        assert watcher.task is not None and watcher.task.done()  # stopped with the bot, no stray task
        fake.assert_clean()


async def test_added_changed_and_removed_notes_are_picked_up(watched) -> None:
    bot, notes, _ = watched
    before = bot.engine
    assert not before.ask("what does Zephyr batch requests across?").answered
    (notes / "zephyr-en.md").write_text(NOTE.format(what="GPUs"), encoding="utf-8")
    await until(lambda: "zephyr-en.md" in paths(bot), "an added note")
    answer = bot.engine.ask("what does the Zephyr serving stack batch requests across?")
    assert answer.answered and "GPUs" in answer.text
    assert len(bot.engine.notes) == len(before.notes) + 1

    (notes / "zephyr-en.md").write_text(NOTE.format(what="datacenters"), encoding="utf-8")
    await until(lambda: "datacenters" in bot.engine.ask("what does the Zephyr serving stack batch requests "
                                                          "across?").text, "a changed note")
    (notes / "zephyr-en.md").unlink()
    await until(lambda: "zephyr-en.md" not in paths(bot), "a removed note")
    assert not bot.engine.ask("what does Zephyr batch requests across?").answered


async def test_many_changes_at_once_are_one_batch(watched) -> None:
    bot, notes, watcher = watched
    for i in range(30):
        (notes / f"batch-{i:02d}-en.md").write_text(NOTE.format(what=f"shard {i}"), encoding="utf-8")
    await until(lambda: sum(p.startswith("batch-") for p in paths(bot)) == 30, "30 new notes")
    assert 1 <= watcher.reloads <= 3, watcher.reloads  # batched, not one reload per file


async def test_a_note_that_breaks_keeps_the_previous_index_in_one_log_line(watched, caplog) -> None:
    bot, notes, _ = watched
    caplog.set_level(logging.INFO, logger="bot")
    before = bot.engine
    note = notes / "notes" / "vllm-adoption-ai-providers-en.md"  # as copied from the bundled notes
    assert note.exists()
    note.write_text("---\ntitle: [oops\n---\n\nbody\n", encoding="utf-8")
    await until(lambda: any("Reload cancelled" in r.getMessage() for r in caplog.records), "a cancelled reload")
    assert bot.engine is before and bot.engine.ask("does DeepSeek use vLLM?").answered
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage() and warnings[0].exc_info is None


async def test_a_failed_refresh_keeps_the_previous_index_in_one_log_line(watched, caplog, monkeypatch) -> None:
    bot, notes, watcher = watched
    caplog.set_level(logging.INFO, logger="bot")
    before = bot.engine

    def failing(engine: Engine) -> Engine:
        raise OSError("disk on fire")

    monkeypatch.setattr("bot.discord_app.reloading.reload.refresh_engine", failing)
    (notes / "zephyr-en.md").write_text(NOTE.format(what="GPUs"), encoding="utf-8")
    await until(lambda: watcher.reloads >= 1, "a reload attempt")
    assert bot.engine is before
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["Reload failed; keeping the previous notes: disk on fire"]
    assert warnings[0].exc_info is None


def test_run_refuses_to_start_when_watch_is_on_but_watchfiles_is_missing(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"notes:\n  watch: true\ndiscord:\n  data_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    hide = "import sys; sys.modules['watchfiles'] = None; from bot.cli.main import main; sys.exit(main())"
    done = subprocess.run([sys.executable, "-c", hide, "run", "--config", str(config)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, env={"DISCORD_TOKEN": "x" * 59, "PATH": "/usr/bin"})
    assert done.returncode == 2, done.stderr
    assert "notes.watch" in done.stderr and "pip install 'notes-bot[watch]'" in done.stderr
    assert "Traceback" not in done.stderr
