"""What the command line does for a person at a terminal: wrapped answers, build progress, line editing.

None of it changes what a script reads: progress goes to stderr and only when stderr is a
terminal; answers are wrapped only for a terminal (and in `chat`), never inside code blocks.
"""
from __future__ import annotations

import re
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, TextIO

PROGRESS_AFTER = 1.0  # seconds: a build quicker than this shows no progress at all
PROGRESS_EVERY = 0.1  # seconds between two redraws of the progress line

_FENCE = re.compile(r"^\s*(```|~~~)")
_LIST_ITEM = re.compile(r"^(\s*(?:[-*+•]|\d+[.)])\s+)")


def terminal_width(default: int = 80) -> int:
    """Columns of the terminal ($COLUMNS first), at least 20."""
    return max(20, shutil.get_terminal_size((default, 24)).columns)


def wrap_text(text: str, width: int) -> str:
    """Wrap prose at word boundaries to `width` columns. Code blocks, table rows and indented
    code stay as they are (a wrapped line of code is a different line of code); list items
    keep a hanging indent; words longer than a line (URLs) are never cut."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            out.append(line)
            continue
        if in_code or len(line) <= width or line.lstrip().startswith("|") or line.startswith(("    ", "\t")):
            out.append(line)
            continue
        item = _LIST_ITEM.match(line)
        indent = " " * len(item.group(1)) if item else re.match(r"\s*", line).group(0)  # type: ignore[union-attr]
        out.append(textwrap.fill(line, width, subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False))
    return "\n".join(out)


class Progress:
    """The build's phases on one redrawn stderr line, once a build has taken a second: "notes read:
    1200 of 10000", then "sentence rows embedded: 3072 of 80000 (410/s, 3 min 8 s left)". Silent
    when the stream is not a terminal, so piped and captured output stays clean."""

    LABELS = {"read": "notes read", "embed": "sentence rows embedded"}

    def __init__(self, stream: TextIO | None = None, after: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_terminal(self.stream)
        self.after = PROGRESS_AFTER if after is None else after
        self.started = time.monotonic()
        self.drawn = 0.0  # when the line was last drawn; 0: never
        self.width = 0
        self.phase = ""
        self.phase_started = self.started

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.phase_started = phase, now
        if not self.enabled or now - self.started < self.after:
            return
        if done < total and now - self.drawn < PROGRESS_EVERY:
            return
        line = f"{self.LABELS.get(phase, phase)}: {done} of {total}"
        elapsed = now - self.phase_started
        if phase == "embed" and done and elapsed > 0:
            rate = done / elapsed
            line += f" ({rate:.0f}/s, {_duration((total - done) / rate)} left)"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width, self.drawn = len(line), now

    def finish(self) -> None:
        """Clear the progress line (nothing to do if it was never drawn)."""
        if self.drawn:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.drawn = 0.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def is_terminal(stream: Any) -> bool:
    """Is the stream a terminal? False for anything without a working isatty (closed, replaced)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LineReader:
    """Lines typed at the prompt: with readline (editing, arrow-key history kept in
    `history_file`) on a terminal, plain lines from a pipe. None at the end of input."""

    def __init__(self, stdin: TextIO, out: TextIO, history_file: Path | None = None, prompt: str = "> ") -> None:
        self.stdin, self.out, self.prompt = stdin, out, prompt
        self.interactive = is_terminal(stdin) and stdin is sys.stdin
        self.history_file = history_file
        self.readline = None
        if self.interactive:
            try:
                import readline  # not on every platform (Windows): then plain input() still works
            except ImportError:
                readline = None  # type: ignore[assignment]
            self.readline = readline
            if readline is not None and history_file is not None:
                try:
                    readline.read_history_file(history_file)
                except (OSError, ValueError):  # no history yet, or one that cannot be read
                    pass

    def read(self) -> str | None:
        if self.interactive:
            try:
                return input(self.prompt)  # readline edits the line when it is loaded
            except EOFError:  # Ctrl-D: end the prompt's line, or the shell's prompt would follow it
                self.out.write("\n")
                self.out.flush()
                return None
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def close(self) -> None:
        if self.readline is not None and self.history_file is not None:
            try:
                self.history_file.parent.mkdir(parents=True, exist_ok=True)
                self.readline.set_history_length(1000)
                self.readline.write_history_file(self.history_file)
            except OSError:  # a read-only state folder costs the history, nothing else
                pass


__all__ = ["LineReader", "Progress", "is_terminal", "terminal_width", "wrap_text"]
