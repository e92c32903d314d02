"""The command line as a user runs it: `python -m bot ask|chat|check`, in a real process."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default data_dir ($XDG_STATE_HOME/notes-bot) in tmp_path: the index cache never lands in ~."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("NOTES_BOT_CONFIG", raising=False)
    return tmp_path / "state"


@pytest.fixture
def words_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For the tests of the command line's plumbing (options, exits, terminals), not of answers:
    word search only, so that each process skips loading the sentence-vector model (seconds)."""
    config = tmp_path / "words-only.yaml"
    config.write_text("answers:\n  semantic: false\n", encoding="utf-8")
    monkeypatch.setenv("NOTES_BOT_CONFIG", str(config))
    return config


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd or ROOT)


def test_ask_prints_the_answer_and_its_source_from_the_bundled_notes(tmp_path: Path) -> None:
    done = run("ask", "does DeepSeek use vLLM?", cwd=tmp_path)  # any working directory
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Yes — DeepSeek has open-sourced")
    assert "Source: vLLM Adoption by AI Providers" in done.stdout


def test_ask_json_reads_stdin_one_object_per_line_in_order() -> None:
    done = run("ask", "--json", stdin="¿OpenAI usa vLLM?\ndoes Groq use vLLM?\n\n")
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["question"] for r in replies] == ["¿OpenAI usa vLLM?", "does Groq use vLLM?", ""]
    first, second, empty = replies
    assert first["answered"] and first["language"] == "es" and first["answer_language"] == "es"
    assert first["answer"].startswith("No") and first["sources"][0]["lang"] == "es"
    assert not second["answered"] and second["sources"] == [] and "I don't know" in second["answer"]
    assert not empty["answered"]
    assert done.stderr == ""  # stdin is a pipe: no hint for a person (tests/test_cli_terminal.py has the terminal)


def test_chat_answers_each_line_until_an_empty_one() -> None:
    done = run("chat", "--locale", "es-ES", stdin="¿DeepSeek usa vLLM?\n\nnever read\n")
    assert done.returncode == 0, done.stderr
    assert "2 notas cargadas" in done.stdout  # the banner in the --locale's language
    assert "Sí — DeepSeek" in done.stdout and "never read" not in done.stdout


def test_chat_and_ask_show_not_sure_from_the_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"  # a gate nothing passes: the seed note is offered, not answered
    config.write_text("answers:\n  min_confidence: 1.0\n  not_sure_confidence: 0.5\n", encoding="utf-8")
    chat = run("chat", "--config", str(config), "--no-cache", stdin="¿DeepSeek usa vLLM?\n\n")
    assert chat.returncode == 0, chat.stderr
    assert "No estoy seguro de que las notas respondan a esto." in chat.stdout and "Sí — DeepSeek" in chat.stdout
    asked = run("ask", "--json", "--config", str(config), "--no-cache", "does DeepSeek use vLLM?")
    reply = json.loads(asked.stdout)
    assert reply["answered"] is False and reply["outcome"] == "not_sure"
    assert reply["closest"]["answer"].startswith("Yes — DeepSeek")


def test_check_counts_languages_and_fails_on_a_broken_note(tmp_path: Path) -> None:
    ok = run("check")
    assert ok.returncode == 0 and "en       1" in ok.stdout and "es       1" in ok.stdout and "no problems" in ok.stdout
    (tmp_path / "good-en.md").write_text("---\ntitle: Good\n---\n\nfine\n", encoding="utf-8")
    (tmp_path / "bad-en.md").write_text("---\ntitle: [oops\n---\n\nbody\n", encoding="utf-8")
    broken = run("check", "--notes", str(tmp_path))
    assert broken.returncode == 1
    assert "1 notes in 1 translation groups" in broken.stdout
    assert "no note has a translation\n" in broken.stdout and "0 notes have translations" not in broken.stdout
    assert re.search(re.escape(str(tmp_path / "bad-en.md")) + r":[23]: invalid YAML", broken.stdout), broken.stdout


def test_a_bad_config_names_the_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("answers:\n  min_confidence: high\n", encoding="utf-8")
    done = run("ask", "--config", str(config), "hello")
    assert done.returncode == 2
    assert "answers.min_confidence" in done.stderr and done.stdout == ""


def test_check_names_the_line_of_an_unclosed_quote_not_the_end_of_the_front_matter(tmp_path: Path, capsys) -> None:
    (tmp_path / "quote-en.md").write_text('---\ntitle: "Unclosed\nlang: en\ntags: [a, b]\n---\n\nbody\n',
                                          encoding="utf-8")
    assert main(["check", "--no-cache", "--notes", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'quote-en.md'}:2: invalid YAML" in out, out  # line 2 opens the quote
