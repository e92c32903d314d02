"""Shared fixtures: no test may reach the network, and any ERROR log record fails the test.

Both guards come from the fake Discord module: `network_guard` (session, autouse)
makes a connection to any non-loopback host fail at once; `error_log` (autouse)
fails a test at teardown if anything logged at ERROR or above, because
discord.py only *logs* exceptions raised in event handlers and commands.
"""
from tests.fake_discord import error_log, fake_discord, network_guard  # noqa: F401  (fixtures)

import pytest

import tests.fake_discord as fake_module
from tests.bot_harness import DISCORD_COMMAND_NAME


@pytest.fixture
def discord_name_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fake validate command names with Discord's full rule (Devanagari vowel signs included)."""
    monkeypatch.setattr(fake_module, "_COMMAND_NAME", DISCORD_COMMAND_NAME)
