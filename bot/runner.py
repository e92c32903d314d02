"""`python -m bot run`: logging, token, engine, then the bot, with one clear line for each way it can fail.

Exit codes: 0 stopped normally (Ctrl+C, SIGTERM), 1 the notes could not be
loaded, 2 a problem with the token or the Discord application settings.
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

import discord
import yarl

from knowledge.engine import Engine

from .app import NotesBot
from .config import Config, DiscordConfig
from .watching import missing_watcher

_log = logging.getLogger(__name__)


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
    discord.utils.setup_logging(handler=handler, level=logging.getLevelName(level), root=True)


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

    _log.info("Loading notes from %s", ", ".join(map(str, config.notes.folders)))
    try:
        engine = Engine.build(config.notes.folders, config.engine_options(cached=True))
    except Exception as exc:
        _log.debug("Loading the notes failed", exc_info=True)
        fail(f"could not load the notes: {exc}")
        return 1
    for problem in engine.problems:
        _log.warning("Skipped broken note %s", problem)
    stats = engine.stats()
    _log.info("Loaded %s notes (%s)", stats.get("notes"), stats.get("languages"))

    try:
        asyncio.run(_serve(config, engine, token, bot_options))
    except discord.LoginFailure:
        fail(f"Discord rejected the token in {env}: copy it again from the Developer Portal (Bot → Reset Token)")
        return 2
    except discord.PrivilegedIntentsRequired:
        fail(
            "Discord refused the Message Content intent: enable it in the Developer Portal (Bot → Privileged "
            "Gateway Intents), or configure no channels and dms: false so that the bot does not need it"
        )
        return 2
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(config: Config, engine: Engine, token: str, bot_options: dict[str, Any]) -> None:
    bot = NotesBot(config, engine, **bot_options)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            # A clean close (gateway goodbye, HTTP session closed) instead of a KeyboardInterrupt traceback.
            loop.add_signal_handler(sig, lambda: loop.create_task(bot.close()))
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass
    async with bot:
        await bot.start(token)
