"""Shared fixtures: no test may reach the network, and any ERROR log record fails the test.

Both guards come from the fake Discord module: `network_guard` (session, autouse)
makes a connection to any non-loopback host fail at once; `error_log` (autouse)
fails a test at teardown if anything logged at ERROR or above, because
discord.py only *logs* exceptions raised in event handlers and commands.
"""
from pathlib import Path

import pytest

from tests.fake_discord import error_log, fake_discord, network_guard  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
def shared_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder ($XDG_STATE_HOME) shared by every test of this run, and by every xdist
    worker: the tests over ../shared/corpus/blog embed the blog once (the index cache, keyed by
    content), instead of once per test, and never touch the user's own ~/.local/state."""
    root = tmp_path_factory.getbasetemp()
    if root.name.startswith("popen-gw"):  # an xdist worker: its siblings share the parent
        root = root.parent
    folder = root / "shared-state"
    folder.mkdir(exist_ok=True)
    return folder
