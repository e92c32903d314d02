"""The command line as a person at a terminal meets it: the shared cache, chat's help and exits,
wrapped answers, progress on a terminal only, --version, --locale, an empty notes folder.
Real processes (and a pseudo-terminal where a terminal is the point)."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli.terminal import wrap_text
from tests.test_cli import ROOT, run, state_home, words_only  # noqa: F401  (fixtures)

BUNDLED = ROOT / "bot" / "notes"
OLD = "DeepSeek has open-sourced a custom inference engine built directly on vLLM"
NEW = "DeepSeek has open-sourced a custom inference engine built directly on Zeph"  # same length


def copy_notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(BUNDLED, folder)
    return folder


def test_ask_keeps_the_bots_index_cache_and_starts_from_it(tmp_path: Path, state_home: Path) -> None:
    notes = copy_notes(tmp_path)
    first = run("ask", "--json", "--notes", str(notes), "does DeepSeek use vLLM?")
    assert first.returncode == 0, first.stderr
    assert (state_home / "notes-bot" / "index" / "index.npz").is_file()  # the bot's default place
    # Same size, same modification time, other bytes: only a run that trusts the cache still sees the old text.
    note = next(notes.rglob("*-en.md"))
    stat = note.stat()
    text = note.read_text(encoding="utf-8")
    assert OLD in text and len(OLD) == len(NEW)
    note.write_text(text.replace(OLD, NEW), encoding="utf-8")
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    cached = json.loads(run("ask", "--json", "--notes", str(notes), "does DeepSeek use vLLM?").stdout)
    fresh = run("ask", "--json", "--no-cache", "--notes", str(notes), "does DeepSeek use vLLM?")
    assert "directly on vLLM" in cached["answer"]
    assert "directly on Zeph" in json.loads(fresh.stdout)["answer"]


@pytest.mark.usefixtures("words_only")
def test_no_cache_writes_nothing(tmp_path: Path, state_home: Path) -> None:
    done = run("ask", "--no-cache", "--notes", str(copy_notes(tmp_path)), "does DeepSeek use vLLM?")
    assert done.returncode == 0 and "DeepSeek" in done.stdout
    assert not (state_home / "notes-bot").exists()


@pytest.mark.usefixtures("words_only")
def test_check_on_an_empty_or_mistyped_folder_fails_and_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "drafts").mkdir(parents=True)
    (empty / "drafts" / "todo.txt").write_text("not a note", encoding="utf-8")
    done = run("check", "--notes", str(empty))
    assert done.returncode == 1
    assert f"no notes found in {empty}" in done.stdout
    mistyped = run("check", "--notes", str(tmp_path / "emtpy"))
    assert mistyped.returncode == 2
    assert "folder not found" in mistyped.stderr and "Traceback" not in mistyped.stderr


@pytest.mark.usefixtures("words_only")
def test_ask_on_an_empty_folder_says_so_on_stderr_and_keeps_json_pure(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run("ask", "--json", "--notes", str(tmp_path / "empty"), "anything?")
    assert done.returncode == 0
    assert "no notes found" in done.stderr
    assert json.loads(done.stdout)["answered"] is False


def test_version() -> None:
    done = run("--version")
    assert done.returncode == 0
    assert re.fullmatch(r"notes-bot \S+\n", done.stdout)
    assert done.stdout.split()[1] != "unknown"  # installed (pip install -e): the real version


@pytest.mark.parametrize("locale", ["klingon", "xx", "english", ""])
def test_an_unknown_locale_is_refused_clearly(locale: str) -> None:
    done = run("ask", "--locale", locale, "hello")
    assert done.returncode == 2 and done.stdout == ""
    assert f"argument --locale: unknown language {locale!r}" in done.stderr
    assert "es-ES" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.usefixtures("words_only")
@pytest.mark.parametrize("locale", ["es-ES", "zh_TW", "FR", "pt-BR"])
def test_known_locales_are_accepted(locale: str) -> None:
    assert run("ask", "--locale", locale, "vLLM?").returncode == 0


@pytest.mark.usefixtures("words_only")
def test_chat_answers_help_in_the_locales_language_and_quits() -> None:
    done = run("chat", "--locale", "fr-FR", stdin="help\nquit\nnever read\n")
    assert done.returncode == 0, done.stderr
    assert "2 notes chargées" in done.stdout and "Tapez une question" in done.stdout
    assert "never read" not in done.stdout and done.stderr == ""


def test_chat_leaves_on_end_of_input_without_a_traceback() -> None:
    done = run("chat", stdin="does DeepSeek use vLLM?\n")  # no empty line: stdin just ends (Ctrl-D)
    assert done.returncode == 0 and "Yes — DeepSeek" in done.stdout
    assert done.stderr == ""


@pytest.mark.usefixtures("words_only")
def test_chat_leaves_on_ctrl_c_without_a_traceback() -> None:
    process = subprocess.Popen([sys.executable, "-m", "bot", "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert "notes loaded" in process.stdout.readline()  # waiting at the prompt now
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_chat_wraps_long_answers_to_the_terminal_width(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    long_code = "result = compute_the_total_of_every_invoice(customer_id, from_date, to_date, currency)"
    (notes / "invoices-en.md").write_text(
        "---\ntitle: Invoice totals\n---\n\n# Invoice totals\n\n"
        "To total the invoices of one customer over a period, call the helper below with the customer, "
        "the first and last day and the currency; it returns one number per currency and never rounds.\n\n"
        f"```python\n{long_code}\n```\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "chat", "--notes", str(notes)],
                          input="how do I total the invoices of one customer?\n", capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, "COLUMNS": "40"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()[1:]  # after the banner
    assert "To total the invoices" in done.stdout
    too_long = [line for line in lines if len(line) > 40 and line != long_code and " " in line.strip()]
    assert too_long == []


def test_wrap_text_keeps_code_tables_and_long_words() -> None:
    text = ("alpha beta gamma delta epsilon zeta eta theta iota kappa\n"
            "```\nkeep this very long line of code exactly as it is, please\n```\n"
            "| a table row that is long | stays as one row of the table |\n"
            "- a list item that is long enough to wrap onto a second line\n"
            "see https://example.invalid/a/very/long/url/that/never/breaks")
    wrapped = wrap_text(text, 20).split("\n")
    assert wrapped[:3] == ["alpha beta gamma", "delta epsilon zeta", "eta theta iota kappa"]
    assert "keep this very long line of code exactly as it is, please" in wrapped
    assert "| a table row that is long | stays as one row of the table |" in wrapped
    assert wrapped[wrapped.index("- a list item that") + 1].startswith("  is long")
    assert "https://example.invalid/a/very/long/url/that/never/breaks" in wrapped


def _with_pty_stderr(args: list[str], tmp_path: Path) -> tuple[int, str, str]:
    """Run the command line with stderr on a pseudo-terminal (stdout a pipe), progress shown at once."""
    code = "import sys, bot.cli.terminal as t; t.PROGRESS_AFTER = 0; from bot.cli.main import main; sys.exit(main())"
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", code, *args], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=follower, cwd=ROOT)
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the process closed its end
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    out = process.stdout.read().decode()
    return process.wait(timeout=30), out, seen.decode(errors="replace")


@pytest.mark.usefixtures("words_only")
def test_a_build_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(250):
        (notes / f"note-{i:03d}-en.md").write_text(f"# Note {i}\n\nThe number {i} is written here.\n", encoding="utf-8")
    args = ["ask", "--json", "--no-cache", "--notes", str(notes), "which note has the number 7?"]
    code, out, err = _with_pty_stderr(args, tmp_path)
    assert code == 0, err
    assert "notes read: 100 of 250" in err and "notes read: 250 of 250" in err
    assert [json.loads(line)["question"] for line in out.splitlines()] == ["which note has the number 7?"]
    piped = subprocess.run([sys.executable, "-c", "import sys, bot.cli.terminal as t; t.PROGRESS_AFTER = 0; "
                            "from bot.cli.main import main; sys.exit(main())", *args],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert piped.returncode == 0 and piped.stderr == ""  # not a terminal: not a byte of progress
    assert json.loads(piped.stdout)["question"] == "which note has the number 7?"


def test_chat_on_a_terminal_edits_lines_and_keeps_history(tmp_path: Path, state_home: Path) -> None:
    """stdin and stdout on a pseudo-terminal: readline is in charge of the prompt."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bot", "chat"], stdin=follower, stdout=follower,
                               stderr=subprocess.PIPE, cwd=ROOT, env={**os.environ, "COLUMNS": "60", "TERM": "dumb"})
    os.close(follower)
    seen = b""

    def until(text: bytes, after: bytes = b"") -> None:
        """Read until `text` shows (after the first `after`: readline may redraw the prompt while editing)."""
        nonlocal seen
        deadline = time.monotonic() + 60

        def shown() -> bool:
            start = seen.find(after)
            return start >= 0 and text in seen[start + len(after):]

        while not shown():
            assert time.monotonic() < deadline, seen
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                seen += os.read(leader, 4096)

    try:
        until(b"> ")
        os.write(leader, b"hlp\x02\x02e\x05\r")  # typo, Ctrl-B twice, insert "e", Ctrl-E: readline edits it to "help"
        until(b"Up and down arrows")
        until(b"> ", after=b"Ctrl-C leaves.")  # the next prompt: readline reads keys again
        os.write(leader, b"\x04")  # Ctrl-D at an empty prompt
        assert process.wait(timeout=30) == 0
        while select.select([leader], [], [], 0.2)[0]:
            try:
                seen += os.read(leader, 4096)
            except OSError:  # the terminal's other end is gone: everything was read
                break
        # The prompt's line is ended: the shell's prompt comes on a line of its own.
        assert seen[seen.rindex(b"> "):].endswith(b"\n"), seen[-40:]
    finally:
        process.kill()
        os.close(leader)
    assert b"Traceback" not in process.stderr.read()
    history = (state_home / "notes-bot" / "chat-history").read_text(encoding="utf-8")
    assert "help" in history.splitlines()


@pytest.mark.usefixtures("words_only")
def test_ask_without_a_question_on_a_terminal_says_how_to_ask(tmp_path: Path) -> None:
    """stdin on a pseudo-terminal and no question: a hint on stderr instead of a silent wait."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "bot", "ask", "--no-cache"], stdin=follower,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    os.close(follower)
    try:
        os.write(leader, b"does DeepSeek use vLLM?\n\x04")  # one question, then Ctrl-D
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
        os.close(leader)
    assert process.returncode == 0, err
    assert "one per line; Ctrl-D ends" in err.decode()
    assert "DeepSeek" in out.decode()
