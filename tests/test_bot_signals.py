"""`python -m bot run` (and the installed `notes-bot` script) as a real process: SIGTERM under
load and during start-up, Discord unreachable at start, and logs without colour codes off a terminal."""
from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.discord_app import stopping
from bot.discord_app.connecting import OneLineReconnects
from bot.discord_app.runner import HANDLER_NAME, setup_logging
from knowledge.indexing.cache import CACHE_FILE, load_cache
from tests.bot_harness import ENGLISH_QUESTION, SPANISH_QUESTION
from tests.fake_discord import FakeDiscord
from tests.test_bot_runner import NOTES_BOT_SCRIPT, PYTHON_M_BOT, TOKEN, restore_logging, start, write_config  # noqa: F401  (fixture)


def write_notes(folder: Path, count: int) -> Path:
    """`count` small notes: above knowledge.indexing.reading.MIN_FILES, the build forks readers."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"topic-{i:04d}-en.md").write_text(
            f"---\ntitle: Topic {i}\nlang: en\n---\n\n# Topic {i}\n\nTopic {i} runs on port {8000 + i}.\n\n"
            f"## Setup\n\nInstall topic{i} with `pip install topic{i}`.\n", encoding="utf-8")
    return folder


async def wait_for_handler(pid: int, timeout: float = 10) -> None:
    """Until the process catches SIGTERM (Linux: the SigCgt mask in /proc/PID/status)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        await asyncio.sleep(0.002)
    raise AssertionError("the bot never installed its SIGTERM handler")


def config_with_notes(tmp_path: Path, fake: FakeDiscord, notes: Path) -> Path:
    path = write_config(tmp_path, fake)
    text = path.read_text(encoding="utf-8").replace("level: DEBUG", "level: INFO")
    lines = text.splitlines()
    lines[1] = f"  folders: [{notes}]"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_in(output: str) -> list[str]:
    return [line for line in output.splitlines()
            if "[ERROR" in line or "Traceback" in line or "never retrieved" in line or "\x1b[" in line]


async def test_sigterm_under_load_answers_every_question_in_flight_and_exits_0(tmp_path):
    async with FakeDiscord(token=TOKEN) as fake:
        config = write_config(tmp_path, fake, cooldown="{rate: 1000, per_seconds: 1}")
        # Words only: 60 answers take milliseconds, not the seconds of 60 sentence encodings on a
        # busy machine, which outran the stop's 10 s and made this test fail at random. What a stop
        # does when its time runs out is tested on its own (test_bot_reliability).
        with config.open("a", encoding="utf-8") as file:
            file.write("answers:\n  semantic: false\n")
        process = await start(config, tmp_path, TOKEN)
        try:
            await fake.wait_for(lambda: fake.command_syncs, timeout=10, what="the bot to start")
            await fake.wait_ready()
            inters = await asyncio.gather(*(
                fake.send_slash_command("ask", {"question": (ENGLISH_QUESTION, SPANISH_QUESTION)[i % 2]})
                for i in range(60)))
            process.send_signal(signal.SIGTERM)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
        output = (stdout + stderr).decode()
        assert process.returncode == 0, output
        assert not problems_in(output), output
        for inter in inters:
            assert inter.is_complete() and not inter.rejected, (inter, output)
            assert "DeepSeek" in [m for m in inter.messages if not m.loading][0].text
        assert "Stopped" in output


@pytest.mark.parametrize("command", [PYTHON_M_BOT, NOTES_BOT_SCRIPT], ids=["python -m bot", "notes-bot"])
async def test_sigterm_during_start_up_exits_0_and_leaves_a_whole_cache(tmp_path, command):
    if not Path(command[0]).exists():
        pytest.skip("the notes-bot script is not installed (pip install -e .)")
    notes = write_notes(tmp_path / "notes", 500)
    cache = tmp_path / "state" / "index"
    cache.mkdir(parents=True)
    stale = cache / f"{CACHE_FILE}killed.tmp"
    async with FakeDiscord(token=TOKEN) as fake:
        config = config_with_notes(tmp_path, fake, notes)
        for delay in (0.0, 0.3, 0.8, 1.6):
            stale.write_bytes(b"left by a process killed while saving")
            process = await start(config, tmp_path, TOKEN, command)
            await wait_for_handler(process.pid)  # our first line ran: before it, SIGTERM is the interpreter's
            await asyncio.sleep(delay)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
            output = (stdout + stderr).decode()
            assert process.returncode == 0, (delay, process.returncode, output)
            assert not problems_in(output), (delay, output)
            left = sorted(p.name for p in cache.glob("*.tmp"))
            # The stale file goes as soon as the run got past its first lines.
            assert left in ([], [stale.name]), (delay, left)
            if (cache / CACHE_FILE).exists():
                assert len(load_cache(cache).notes) == 500, delay
        assert not stale.exists()  # the later runs got that far


async def test_discord_unreachable_at_start_is_one_line_then_a_retry_that_connects(tmp_path):
    with socket.socket() as probe:  # a free port on which nothing listens yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeDiscord(token=TOKEN, port=port)
    process = await start(write_config(tmp_path, _Endpoints(port)), tmp_path, TOKEN)
    try:
        line = await asyncio.wait_for(process.stderr.readline(), 20)
        while b"unreachable" not in line:
            line = await asyncio.wait_for(process.stderr.readline(), 20)
        assert b"WARNING" in line and b"trying again in 1 s" in line
        await fake.start()  # Discord comes back: the next attempt gets in
        await fake.wait_for(lambda: fake.command_syncs, timeout=10, what="the bot to connect after the retry")
        await fake.wait_ready()
        inter = await fake.send_slash_command("ask", {"question": ENGLISH_QUESTION})
        await fake.wait_interaction_response(inter)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 20)
        await fake.close()
    output = (line + stdout + stderr).decode()
    assert process.returncode == 0, output
    assert not problems_in(output), output


class _Endpoints:
    """What write_config reads of a FakeDiscord, for one that is not started yet."""

    def __init__(self, port: int) -> None:
        self.api_base = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gw"


def test_no_colour_codes_off_a_terminal_even_in_docker(monkeypatch, restore_logging):  # noqa: F811
    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)  # discord.py colours in Docker
    setup_logging("INFO")
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello", None, None)
    assert "\x1b[" not in handler.format(record)


def test_a_gateway_reconnect_is_one_warning_line():
    try:
        raise OSError("Network is unreachable")
    except OSError:
        import sys
        record = logging.LogRecord("discord.client", logging.ERROR, __file__, 1, "Attempting a reconnect in %.2fs",
                                   (4.0,), sys.exc_info())
    assert OneLineReconnects().filter(record)
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == ("Lost the connection to Discord (OSError: Network is unreachable); "
                                   "reconnecting in 4 s")


_LANDS_IN = r"""
import signal, sys, time
from bot.discord_app import stopping
stopping.install()
try:
    # The frame a signal interrupts when it lands in that file's code.
    frame = {}
    exec(compile("import sys; frame['f'] = sys._getframe()", sys.argv[1], "exec"), {"frame": frame})
    stopping._handle(signal.SIGTERM, frame["f"])  # must not raise there
    print("not raised there", flush=True)
    time.sleep(5)
    print("never stopped", flush=True)
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


# An import's weakref callback drops the exception (and start-up goes on); one raised inside the
# logging module leaves its lock taken, and the next log line of another thread waits forever.
@pytest.mark.parametrize("file", ["<frozen importlib._bootstrap>", logging.__file__], ids=["import", "logging"])
def test_a_signal_landing_where_raising_is_unsafe_is_delivered_again_a_moment_later(file):
    done = subprocess.run([sys.executable, "-c", _LANDS_IN, file], capture_output=True, text=True, timeout=30,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.splitlines() == ["not raised there", "stopped"], done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_lost_interrupt_stops_start_up_at_the_next_step(monkeypatch):
    monkeypatch.setattr(stopping._state, "requested", None)
    stopping.stop_if_requested()  # nothing asked: goes on
    monkeypatch.setattr(stopping._state, "requested", signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        stopping.stop_if_requested()
