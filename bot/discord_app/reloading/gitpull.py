"""`git pull --ff-only` of the notes repository before a reload (`notes.git.repository`).

Fast-forward only: the bot never merges, rebases or overwrites anything in the author's
repository. A pull that fails (no network, diverged history, a conflict with local edits,
a wrong branch) leaves the work tree as it was; the notes on disk are reloaded as they are,
and the failure is remembered (`PullFailures`) to be logged once and shown to admins.
"""
from __future__ import annotations

import logging
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_log = logging.getLogger(__name__)

PULL_TIMEOUT = 120.0  # seconds: a hung remote must not hold the reload lock forever
# Never wait for a password prompt nobody can answer; never open the user's editor; git's words in English.
_DIFFSTAT = re.compile(r"\d+ files? changed")
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "GIT_EDITOR": "true", "LC_ALL": "C"}


@dataclass(frozen=True)
class PullResult:
    ok: bool
    message: str  # git's own words: "Already up to date.", the diffstat's last line, or why it failed
    before: str | None = None  # HEAD before the pull (None: not a repository, or git missing)
    after: str | None = None  # HEAD after it
    reason: str = ""  # a failure's last line ("fatal: Not possible to fast-forward, aborting."): what it is

    @property
    def moved(self) -> str | None:
        """The commit range the pull brought, "old..new" (abbreviated as git does), or None."""
        if self.before and self.after and self.before != self.after:
            return f"{self.before[:12]}..{self.after[:12]}"
        return None

    def describe(self) -> str:
        """One log line's worth: the range and git's summary, or git's "Already up to date."."""
        return f"{self.moved} ({self.message})" if self.moved else self.message


def pull_notes(repository: Path, remote: str, branch: str | None) -> PullResult:
    """Fast-forward `repository` from `remote` (`branch`, else the checked-out branch's upstream)."""
    command = ["pull", "--ff-only", "--no-rebase", "--stat", remote] + ([branch] if branch else [])
    try:
        before = _head(repository)
        done = _git(repository, command)
    except FileNotFoundError:
        return PullResult(False, "git is not installed", reason="git is not installed")
    except subprocess.TimeoutExpired:
        return PullResult(False, f"git pull took more than {PULL_TIMEOUT:.0f} s", reason="timeout")
    if done.returncode != 0:
        output = " ".join((done.stderr + "\n" + done.stdout).split()) or f"git pull exited with {done.returncode}"
        last = [line.strip() for line in done.stderr.splitlines() if line.strip()][-1:] or [output]
        return PullResult(False, _shorten(output), before, before, reason=last[0])
    after = _head(repository)
    # Git's words: "Already up to date.", or the diffstat's "2 files changed, 5 insertions(+)".
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    summary = [line for line in lines if _DIFFSTAT.match(line)] or lines[-1:]
    return PullResult(True, _shorten(summary[-1]) if summary else "", before, after)


def _git(repository: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repository), *args], capture_output=True, text=True,
                          timeout=PULL_TIMEOUT, env={**os.environ, **_GIT_ENV}, stdin=subprocess.DEVNULL)


def _head(repository: Path) -> str | None:
    done = _git(repository, ["rev-parse", "--verify", "--quiet", "HEAD"])
    return done.stdout.strip() or None if done.returncode == 0 else None


def _shorten(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class PullFailures:
    """The pull that is failing, from its first failure until a pull succeeds: a watcher pulls on
    every change, and the same failure must be logged once, not once per change."""

    message: str | None = None  # git's words, as the last failure said them
    since: float | None = None  # time.time() of the first failure in a row
    reason: str | None = None

    def record(self, result: PullResult, now: float) -> bool:
        """Remember a pull's outcome; True when it is a new failure: the first, or another reason
        (the fetch part of git's words changes from one try to the next, the reason does not)."""
        if result.ok:
            self.message = self.since = self.reason = None
            return False
        new = result.reason != self.reason
        if self.message is None:
            self.since = now
        self.message, self.reason = result.message, result.reason
        return new
