"""`python -m bot run`: logging, token, engine, then the bot, with one clear line for each way it can fail.

Exit codes: 0 stopped normally (Ctrl+C, SIGTERM, at any moment from start-up on), 1 the
notes could not be loaded, 2 a problem with the token or the Discord application settings.
A stop lets answers in flight finish (at most FINISH_SECONDS) and the index cache be
written whole (bot.stopping).
"""
from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import discord
import yarl

from knowledge.engine import Engine
from knowledge.indexing import build_engine
from knowledge.indexing.cache import remove_stale_temp_files

from ..cli.terminal import is_terminal
from ..config import Config, DiscordConfig
from . import stopping
from .client import NotesBot
from .connecting import install_reconnect_filter, login_with_retry, new_connector
from .reloading.watching import missing_watcher

_log = logging.getLogger(__name__)

FINISH_SECONDS = 10.0  # how long a stop waits for answers in flight
NOTICE_SECONDS = 3.0  # then, how long the questions not answered by then have to be told "ask again"


class RedactToken(logging.Filter):
    """Replaces the token in every log record, in case anything (ours or a library's) ever logs it."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[token]"), None
        if record.exc_info and record.exc_info[1] is not None and self.token in str(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
            record.msg = f"{record.msg} (exception hidden: it contained the token)"
        return True


HANDLER_NAME = "notes-bot"


def setup_logging(level: str, token: str | None = None) -> None:
    """discord.py's own log format on the root logger, so our modules log the same way.

    Idempotent: a second call replaces the handler the first one installed.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.set_name(HANDLER_NAME)
    if token:
        handler.addFilter(RedactToken(token))
    # Colour only on a terminal: discord.py also colours in Docker, whatever the stream is,
    # which puts escape codes in log files and pipes.
    formatter = None if is_terminal(handler.stream) else logging.Formatter(
        "[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")
    discord.utils.setup_logging(handler=handler, formatter=formatter or discord.utils.MISSING,
                                level=logging.getLevelName(level), root=True)
    install_reconnect_filter()


def use_endpoints(config: DiscordConfig) -> None:
    """Point discord.py at a Discord-compatible API and gateway when configured (its public class attributes)."""
    if config.api_url:
        discord.http.Route.BASE = config.api_url.rstrip("/")
    if config.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url)


def fail(message: str) -> None:
    print(f"notes-bot: {message}", file=sys.stderr)


def run_bot(config: Config, **bot_options: Any) -> int:
    """Run until stopped; returns the process exit code."""
    env = config.discord.token_env
    token = os.environ.get(env, "").strip()
    setup_logging(config.logging.level, token or None)
    if not token:
        fail(f"no bot token: set the {env} environment variable to the token of your Discord application's bot")
        return 2
    use_endpoints(config.discord)
    if config.notes.watch and (missing := missing_watcher()) is not None:
        fail(missing)
        return 2
    engines: list[Engine] = []
    try:
        return _run(config, token, engines, bot_options)
    except KeyboardInterrupt:  # a stop signal during start-up (bot.stopping)
        _log.info("Stopped during start-up")
        return 0
    finally:
        _wait_for_cache(engines)


def _run(config: Config, token: str, engines: list[Engine], bot_options: dict[str, Any]) -> int:
    options = config.engine_options(cached=True)
    if options.cache_dir is not None:
        _clean_up(options.cache_dir)
    _log.info("Loading notes from %s", ", ".join(map(str, config.notes.folders)))
    stopping.stop_if_requested()
    try:
        engine = build_engine(config.notes.folders, options)
    except Exception as exc:
        _log.debug("Loading the notes failed", exc_info=True)
        fail(f"could not load the notes: {exc}")
        return 1
    engines.append(engine)
    stopping.stop_if_requested()
    for problem in engine.problems:
        _log.warning("Skipped broken note %s", problem)
    stats = engine.stats()
    _log.info("Loaded %s notes (%s)", stats.get("notes"), stats.get("languages"))

    env = config.discord.token_env
    try:
        asyncio.run(_serve(config, engine, token, engines, bot_options))
    except discord.LoginFailure:
        fail(f"Discord rejected the token in {env}: copy it again from the Developer Portal (Bot → Reset Token)")
        return 2
    except discord.PrivilegedIntentsRequired:
        fail(
            "Discord refused the Message Content intent: enable it in the Developer Portal (Bot → Privileged "
            "Gateway Intents), or configure no channels and dms: false so that the bot does not need it"
        )
        return 2
    return 0


def _clean_up(cache_dir: Path) -> None:
    """Temporary files of a process that was killed while writing (SIGKILL, power loss)."""
    for tmp in remove_stale_temp_files(cache_dir):
        _log.info("Removed %s, left by an interrupted save", tmp.name)


def _wait_for_cache(engines: list[Engine]) -> None:
    """The index cache is written by a thread of its own: let it finish, so that the next
    start finds it whole (its writes are atomic, this makes them happen)."""
    for engine in engines:
        if engine.saving is not None and engine.saving.is_alive():
            _log.info("Waiting for the index cache to be written")
        engine.wait_until_saved()


async def _serve(config: Config, engine: Engine, token: str, engines: list[Engine],
                 bot_options: dict[str, Any]) -> None:
    bot = NotesBot(config, engine, **{"connector": new_connector(), **bot_options})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with stopping.serving(loop, stop.set):
        async with bot:
            running = asyncio.create_task(_connect(bot, token, stop), name="notes-bot connection")
            stopper = asyncio.create_task(stop.wait(), name="notes-bot stop")
            try:
                await asyncio.wait({running, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    await _stop(bot)
                await running  # raises LoginFailure and the like
            finally:
                stopper.cancel()
                engines.append(bot.engine)  # a /reload may have built one that is still being saved


async def _connect(bot: NotesBot, token: str, stop: asyncio.Event) -> None:
    try:
        if await login_with_retry(bot, token, stop):
            await bot.connect()
    except Exception:
        if not stop.is_set():
            raise
        # Stopped while logging in or connecting: the closed session is what ended the attempt.


async def _stop(bot: NotesBot, finish_seconds: float = FINISH_SECONDS) -> None:
    """No new work; answers in flight finish (bounded); then the gateway and HTTP session close."""
    bot.stopped_at = time.time()
    bot.stopping = True
    left = await stopping.finish_work(finish_seconds)
    if left:
        # Out of time (a backlog on a slow machine): the questions still queued are dropped, and
        # their askers told to ask again while the connection is still open, never left "thinking…".
        _log.warning("Stopping with %d command(s) unfinished after %.0f s: telling them to ask again",
                     left, finish_seconds)
        bot.answers.close()
        left = await stopping.finish_work(NOTICE_SECONDS)
        if left:
            _log.warning("Stopping with %d command(s) still unfinished", left)
    await bot.close()
    _log.info("Stopped")
