"""Shared fixtures: no test may reach the network, and any ERROR log record fails the test.

Both guards come from the fake Discord module: `network_guard` (session, autouse)
makes a connection to any non-loopback host fail at once; `error_log` (autouse)
fails a test at teardown if anything logged at ERROR or above, because
discord.py only *logs* exceptions raised in event handlers and commands.
"""
from tests.fake_discord import error_log, fake_discord, network_guard  # noqa: F401  (fixtures)
