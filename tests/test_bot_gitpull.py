"""`notes.git`: /reload pulls the notes repository first (fast-forward only), with real git repositories
made in tmp_path (a bare origin, the author's clone and the bot's clone); no network."""
from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import ConfigError, GitConfig, load_config
from tests.bot_harness import make_config, running_bot
from tests.fake_discord import FakeDiscord

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

QUESTION = "what does the Zephyr serving stack batch requests across?"
NOTE = "---\ntitle: Zephyr serving stack\n---\n\n# Zephyr serving stack\n\nZephyr batches requests across {what}.\n"


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=Author", "-c", "user.email=author@example.invalid",
                           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit(clone: Path, name: str, text: str, message: str) -> None:
    (clone / name).write_text(text, encoding="utf-8")
    git(clone, "add", name)
    git(clone, "commit", "-q", "-m", message)


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """(the author's clone, the bot's clone) of one bare origin holding one note."""
    origin, author, bot = tmp_path / "origin.git", tmp_path / "author", tmp_path / "bot-notes"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(author))
    git(author, "checkout", "-q", "-b", "main")
    commit(author, "ollama-en.md", "---\ntitle: Ollama\n---\n\nOllama runs models locally.\n", "first note")
    git(author, "push", "-q", "origin", "main")
    git(tmp_path, "clone", "-q", "--branch", "main", str(origin), str(bot))
    return author, bot


def config_for(tmp_path: Path, clone: Path, branch: str | None = "main"):
    config = make_config(tmp_path, folders=(clone,))
    return replace(config, notes=replace(config.notes, git=GitConfig(repository=clone, branch=branch)))


async def reload(fake: FakeDiscord):
    inter = await fake.send_slash_command("reload", user="manager")
    await fake.wait_interaction_response(inter)
    [message] = [m for m in inter.messages if not m.loading]
    return message.embeds[0]


@pytest.mark.parametrize("branch", ["main", None])  # None: the checked-out branch's upstream
async def test_reload_pulls_the_authors_new_note_first(tmp_path: Path, repos, branch) -> None:
    author, clone = repos
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone, branch)) as bot:
            assert not bot.engine.ask(QUESTION).answered
            commit(author, "zephyr-en.md", NOTE.format(what="GPUs"), "zephyr")
            git(author, "push", "-q", "origin", "main")
            embed = await reload(fake)
            assert embed["title"] == "Notes reloaded"
            assert {f["name"]: f["value"] for f in embed["fields"]}["Added (1)"] == "- `zephyr-en.md`"
            answer = bot.engine.ask(QUESTION)
            assert answer.answered and "GPUs" in answer.text
        fake.assert_clean()


async def test_a_failed_pull_is_reported_and_the_current_notes_stay(tmp_path: Path, repos, caplog) -> None:
    author, clone = repos
    caplog.set_level(logging.INFO, logger="bot")
    # The author rewrote history (force push); the bot's clone cannot fast-forward.
    commit(author, "zephyr-en.md", NOTE.format(what="GPUs"), "zephyr")
    git(author, "push", "-q", "origin", "main")
    commit(clone, "local-en.md", NOTE.format(what="nothing"), "a local commit nobody pushed")
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone)) as bot:
            before = bot.engine
            (clone / "edited-en.md").write_text(NOTE.format(what="tapes"), encoding="utf-8")  # not reloaded either
            embed = await reload(fake)
            assert embed["title"] == "Git pull failed: current notes kept"
            assert "Nothing was reloaded" in embed["description"] and "`" in embed["description"]
            assert bot.engine is before
            assert not (clone / "zephyr-en.md").exists()  # the work tree was left as it was
        fake.assert_clean()
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and r.name == "bot.discord_app.reloading.reload"]
    assert len(warnings) == 1 and warnings[0].startswith(f"git pull of {clone} failed; keeping the current notes: ")


async def test_an_unreachable_origin_is_a_failed_pull(tmp_path: Path, repos) -> None:
    _, clone = repos
    shutil.rmtree(tmp_path / "origin.git")
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone)) as bot:
            before = bot.engine
            embed = await reload(fake)
            assert embed["title"] == "Git pull failed: current notes kept"
            assert bot.engine is before
        fake.assert_clean()


def test_the_repository_must_be_a_git_work_tree(tmp_path: Path, repos) -> None:
    _, clone = repos
    good = tmp_path / "good.yaml"
    good.write_text(f"notes:\n  folders: [{clone}]\n  git:\n    repository: {clone}\n    branch: main\n",
                    encoding="utf-8")
    assert load_config(good).notes.git == GitConfig(repository=clone.resolve(), remote="origin", branch="main")
    plain = tmp_path / "plain"
    plain.mkdir()
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"notes:\n  git:\n    repository: {plain}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^notes\.git\.repository: not a git work tree"):
        load_config(bad)
    typo = tmp_path / "typo.yaml"
    typo.write_text(f"notes:\n  git:\n    repositry: {clone}\n", encoding="utf-8")
    with pytest.raises(ConfigError,
                       match=r"unknown key 'notes\.git\.repositry' \(did you mean 'notes\.git\.repository'\?\)"):
        load_config(typo)
