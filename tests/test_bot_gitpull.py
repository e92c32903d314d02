"""`notes.git`: /reload pulls the notes repository first (fast-forward only), with real git repositories
made in tmp_path (a bare origin, the author's clone and the bot's clone); no network."""
from __future__ import annotations

import asyncio
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


async def admin_command(fake: FakeDiscord, name: str):
    inter = await fake.send_slash_command(name, user="manager")
    await fake.wait_interaction_response(inter)
    [message, *_] = [m for m in inter.messages if not m.loading]
    return message.embeds[0]


async def reload(fake: FakeDiscord):
    return await admin_command(fake, "reload")


def fields(embed) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def head(clone: Path) -> str:
    return git(clone, "rev-parse", "HEAD").strip()


def diverge(author: Path, clone: Path) -> None:
    """The author rewrote history (force push) while the bot's clone has a commit of its own:
    the bot's clone cannot fast-forward any more."""
    commit(author, "zephyr-en.md", NOTE.format(what="GPUs"), "zephyr")
    git(author, "push", "-q", "origin", "main")
    commit(clone, "local-en.md", "---\ntitle: Local\n---\n\nA note nobody pushed.\n", "a local commit")


def pull_lines(caplog, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == level and r.name == "bot.discord_app.reloading.reload" and "git pull" in r.getMessage()]


@pytest.mark.parametrize("branch", ["main", None])  # None: the checked-out branch's upstream
async def test_reload_pulls_the_authors_new_note_first(tmp_path: Path, repos, branch, caplog) -> None:
    author, clone = repos
    caplog.set_level(logging.INFO, logger="bot")
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone, branch)) as bot:
            assert not bot.engine.ask(QUESTION).answered
            commit(author, "zephyr-en.md", NOTE.format(what="GPUs"), "zephyr")
            git(author, "push", "-q", "origin", "main")
            old = head(clone)
            embed = await reload(fake)
            new = head(clone)
            assert embed["title"] == "Notes reloaded"
            assert fields(embed)["Added (1)"] == "- `zephyr-en.md`"
            answer = bot.engine.ask(QUESTION)
            assert answer.answered and "GPUs" in answer.text
            await reload(fake)  # nothing new upstream
        fake.assert_clean()
    # The range the pull moved HEAD by, then git's own "Already up to date.".
    assert old != new
    assert pull_lines(caplog, logging.INFO) == [
        f"git pull of {clone}: {old[:12]}..{new[:12]} (1 file changed, 7 insertions(+))",
        f"git pull of {clone}: Already up to date.",
    ]


async def test_a_failed_pull_is_shown_to_admins_and_local_changes_still_load(tmp_path: Path, repos, caplog) -> None:
    author, clone = repos
    caplog.set_level(logging.INFO, logger="bot")
    diverge(author, clone)
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone)) as bot:
            (clone / "edited-en.md").write_text(NOTE.format(what="tapes"), encoding="utf-8")
            embed = await reload(fake)
            assert embed["title"] == "Notes reloaded"
            assert fields(embed)["Added (1)"] == "- `edited-en.md`"  # the local change loaded
            failing = fields(embed)["Git pull of the notes is failing"]
            assert "Not possible to fast-forward" in failing and "<t:" in failing  # git's words, since when
            assert "tapes" in bot.engine.ask(QUESTION).text
            assert not (clone / "zephyr-en.md").exists()  # the work tree was left as it was
            await reload(fake)  # the same failure again: shown again, logged once
            assert "Not possible to fast-forward" in fields(await admin_command(fake, "stats"))[
                "Git pull of the notes is failing"]
        fake.assert_clean()
    [warning] = pull_lines(caplog, logging.WARNING)
    assert warning.startswith(f"git pull of {clone} failed; reloading the notes as they are on disk: ")


async def test_an_unreachable_origin_is_a_failed_pull(tmp_path: Path, repos) -> None:
    _, clone = repos
    shutil.rmtree(tmp_path / "origin.git")
    async with FakeDiscord() as fake:
        async with running_bot(fake, config_for(tmp_path, clone)):
            embed = await reload(fake)
            assert embed["title"] == "Notes reloaded"
            assert "origin.git" in fields(embed)["Git pull of the notes is failing"]
        fake.assert_clean()


async def test_watch_still_reloads_local_changes_when_the_pull_fails(tmp_path: Path, repos, caplog) -> None:
    author, clone = repos
    caplog.set_level(logging.INFO, logger="bot")
    diverge(author, clone)
    config = config_for(tmp_path, clone)
    config = replace(config, notes=replace(config.notes, watch=True))
    async with FakeDiscord() as fake:
        async with running_bot(fake, config) as bot:
            watcher = bot.get_cog("NotesWatcher")
            await asyncio.sleep(0.3)  # the watcher sets up its inotify watches
            for what in ("tapes", "disks"):  # two changes, two pulls that fail the same way
                reloads = watcher.reloads
                (clone / "edited-en.md").write_text(NOTE.format(what=what), encoding="utf-8")
                await fake.wait_for(lambda reloads=reloads: watcher.reloads > reloads, timeout=15, what="a reload")
                assert what in bot.engine.ask(QUESTION).text
            stats = await admin_command(fake, "stats")
            assert "Not possible to fast-forward" in fields(stats)["Git pull of the notes is failing"]
        fake.assert_clean()
    assert len(pull_lines(caplog, logging.WARNING)) == 1  # once per new failure, not once per change


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
