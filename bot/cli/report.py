"""`python -m bot report unanswered|stats [--days N] [--json]`: the admins' reports, from the journal file.

Reads every server's questions and the DMs' (the operator owns the file). Opening
the journal applies pending migrations and blanks expired text, as the bot does;
SQLite's WAL lets this run while the bot writes.
"""
from __future__ import annotations

import json
import time
from typing import TextIO

from ..config import Config
from ..journal import open_journal, reports
from ..journal.store import JournalError


def report(config: Config, kind: str, days: int, as_json: bool, out: TextIO, err: TextIO,
           now: float | None = None) -> int:
    path = config.journal_path
    if not path.exists():
        where = "journal.enabled is false" if not config.journal.enabled else "the bot has not recorded a question yet"
        return fail(f"no journal at {path} ({where})", as_json, out, err)
    try:
        journal = open_journal(config)
    except JournalError as error:
        return fail(f"journal error: {error}", as_json, out, err)
    try:
        now = time.time() if now is None else now
        rows = journal.rows(reports.period_start(now, days)).result()
    finally:
        journal.close()
    if kind == "unanswered":
        groups, not_sure = reports.unanswered_groups(rows), reports.not_sure_groups(rows)
        text = (json.dumps(reports.unanswered_json(groups, days, not_sure), ensure_ascii=False) + "\n" if as_json
                else reports.unanswered_text(groups, days, not_sure))
    else:
        stats = reports.stats(rows, now, days)
        text = (json.dumps(reports.stats_json(stats, days), ensure_ascii=False) + "\n" if as_json
                else reports.stats_text(stats, days))
    out.write(text)
    return 0


def fail(message: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    """An error as the caller asked for output: with --json, one JSON object on stdout (a script
    reading it gets JSON either way); otherwise a line on stderr. Exit code 1 either way."""
    if as_json:
        out.write(json.dumps({"error": message}, ensure_ascii=False) + "\n")
    else:
        err.write(message + "\n")
    return 1
