"""Reaching Discord: without a network, or with Discord down, one line and a retry with backoff.

discord.py retries a dropped gateway itself, but logs every attempt with a traceback, and
does not retry the first login at all (a long traceback and exit). A rejected token is not
a network problem: it still ends the bot (exit 2, see bot.runner).
"""
from __future__ import annotations

import asyncio
import logging

import aiohttp
import discord

_log = logging.getLogger(__name__)

# What "Discord cannot be reached" looks like: no route, DNS, refused, reset, timeouts, 5xx
# (discord.py already retried those), no gateway.
UNREACHABLE = (OSError, aiohttp.ClientError, asyncio.TimeoutError, discord.DiscordServerError, discord.GatewayNotFound)


# Connections kept open to Discord's API. discord.py opens one per request in flight with no
# limit: a burst of 2,000 acknowledgements then waits on 2,000 handshakes (TLS ones, on
# Discord) instead of reusing a pool. Measured in bench/soak.py.
HTTP_CONNECTIONS = 64


def new_connector() -> aiohttp.TCPConnector:
    """A pooled connector for the bot's HTTP session (create it on the running event loop)."""
    return aiohttp.TCPConnector(limit=HTTP_CONNECTIONS)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


async def login_with_retry(bot: discord.Client, token: str, stop: asyncio.Event, *, max_delay: float = 60.0) -> bool:
    """Log in, retrying after 1, 2, 4… s (at most `max_delay`) while Discord is unreachable;
    False if `stop` was set first. Raises LoginFailure for a bad token."""
    attempt = 0
    while not stop.is_set():
        try:
            await bot.login(token)
            return True
        except UNREACHABLE as error:
            if stop.is_set() or bot.is_closed():
                return False
            delay = min(2.0 ** attempt, max_delay)
            attempt += 1
            _log.warning("Discord is unreachable (%s); trying again in %.0f s", describe(error), delay)
            # A fresh HTTP session next time: the failed one holds the broken connection pool.
            await bot.http.close()
            bot.http.connector = new_connector()
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                pass
    return False


class OneLineReconnects(logging.Filter):
    """discord.py logs each gateway reconnect at ERROR with the whole traceback: one WARNING
    line says the same (the reconnect itself is discord.py's, with its own backoff)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "discord.client" and str(record.msg).startswith("Attempting a reconnect"):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "Lost the connection to Discord (%s); reconnecting in %.0f s"
            record.args = (describe(error) if error else "unknown error", *(record.args or (0.0,)))
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def install_reconnect_filter() -> None:
    logger = logging.getLogger("discord.client")
    if not any(isinstance(f, OneLineReconnects) for f in logger.filters):
        logger.addFilter(OneLineReconnects())
