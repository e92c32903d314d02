"""`git pull --ff-only` of the notes repository before a reload (`notes.git.repository`).

Fast-forward only: the bot never merges, rebases or overwrites anything in the author's
repository. A pull that fails (no network, diverged history, a conflict with local edits,
a wrong branch) leaves the work tree as it was, and the reload is not done: the current
notes keep answering and the reason is reported.
"""
from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

PULL_TIMEOUT = 120.0  # seconds: a hung remote must not hold the reload lock forever


@dataclass(frozen=True)
class PullResult:
    ok: bool
    message: str  # git's own last words: "Already up to date.", "Fast-forward", or why it failed


def pull_notes(repository: Path, remote: str, branch: str | None) -> PullResult:
    """Fast-forward `repository` from `remote` (`branch`, else the checked-out branch's upstream)."""
    command = ["git", "-C", str(repository), "pull", "--ff-only", "--quiet", remote]
    if branch:
        command.append(branch)
    # Never wait for a password prompt nobody can answer; never read the user's editor.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "GIT_EDITOR": "true", "LC_ALL": "C"}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PULL_TIMEOUT, env=env,
                              stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        return PullResult(False, "git is not installed")
    except subprocess.TimeoutExpired:
        return PullResult(False, f"git pull took more than {PULL_TIMEOUT:.0f} s")
    output = " ".join((done.stderr + "\n" + done.stdout).split())
    if done.returncode != 0:
        return PullResult(False, _shorten(output) or f"git pull exited with {done.returncode}")
    return PullResult(True, _shorten(output) or "up to date")


def _shorten(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
