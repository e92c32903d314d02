"""The journal: every question asked, whether it was answered, from which note, and the votes, in SQLite.

One thread owns the connection and does every read and write, in order, from a
queue: an answer never waits for the disk (`record` only queues), a vote queued
after its question is written after it, and SQLite's "one connection per thread"
rule holds without locks. Callers that need a result get a
`concurrent.futures.Future` (await it with `asyncio.wrap_future`).

Privacy: question text is kept `retention_days` days, then blanked (at open and
once a day); counts, languages and notes stay for the statistics. With
`store_user_ids` off no Discord user ID is written anywhere: a vote is keyed by a
keyed hash of (question, user), enough to keep one vote per user per answer but
not to tell who voted, nor to link one person's votes on two answers. The key is
in a file of its own (`voter_key.py`), never in the database: the journal file
with the member list does not tell who voted.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .voter_key import VOTER_KEY_FILE, voter_key

_log = logging.getLogger(__name__)

T = TypeVar("T")
DAY = 86_400.0

# Numbered migrations: migration i (1-based) brings a database from version i-1 to i.
# `PRAGMA user_version` holds the version; a migration and its version bump commit together.
# Never edit a released migration: add a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: questions and votes.
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,        -- the Discord interaction or message ID the question came in
        asked_at REAL NOT NULL,        -- Unix time (UTC)
        via TEXT NOT NULL,             -- slash | menu | mention | channel | dm
        channel_kind TEXT NOT NULL,    -- Discord's channel type: text, public_thread, private (DM), ...
        user_id INTEGER,               -- only with journal.store_user_ids
        question TEXT,                 -- NULL once older than journal.retention_days
        question_lang TEXT NOT NULL,
        answered INTEGER NOT NULL,
        source_path TEXT,
        source_title TEXT,
        answer_lang TEXT
    );
    CREATE INDEX questions_by_time ON questions (asked_at);
    CREATE TABLE votes (
        question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
        voter TEXT NOT NULL,           -- 'u' + user ID, or 'h' + keyed hash when user IDs are not stored
        value INTEGER NOT NULL CHECK (value IN (-1, 1)),
        voted_at REAL NOT NULL,
        PRIMARY KEY (question_id, voter)
    );
    """,
    # 2: the server a question came from (a server's admins see only its questions), the
    # answer's confidence, and settings (the key of the voters' hashes, until migration 3).
    """
    ALTER TABLE questions ADD COLUMN guild_id INTEGER;
    ALTER TABLE questions ADD COLUMN score REAL;
    CREATE INDEX questions_by_guild ON questions (guild_id, asked_at);
    CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 3: the voters' key leaves the database for its own file (Journal._open moves it there
    # before this runs); the table held nothing else.
    """
    DROP TABLE settings;
    """,
    # 4: "not sure" replies (the closest passage offered, not answered), listed apart from "I don't know";
    # source_path, source_title and answer_lang then name the passage offered.
    """
    ALTER TABLE questions ADD COLUMN not_sure INTEGER NOT NULL DEFAULT 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


class JournalError(RuntimeError):
    """The journal cannot be opened (unreadable file, a newer schema than this version knows)."""


@dataclass(frozen=True)
class Asked:
    """One question and what became of it, as it is written to the journal."""

    id: int
    asked_at: float
    via: str
    channel_kind: str
    question: str
    question_lang: str
    answered: bool
    guild_id: int | None = None
    user_id: int | None = None
    source_path: str | None = None
    source_title: str | None = None
    answer_lang: str | None = None
    score: float | None = None
    not_sure: bool = False  # not answered, the closest passage offered (the source_* fields name it)


@dataclass(frozen=True)
class JournalRow:
    """One question as the reports read it, with its votes counted."""

    id: int
    asked_at: float
    guild_id: int | None
    via: str
    channel_kind: str
    question: str | None  # None once past retention
    question_lang: str
    answered: bool
    source_path: str | None
    source_title: str | None
    answer_lang: str | None
    up: int = 0
    down: int = 0
    not_sure: bool = False  # the closest passage was offered (source_path/source_title name it); never with answered


_STOP = object()


class Journal:
    def __init__(self, path: Path, *, retention_days: int = 30, store_user_ids: bool = False,
                 voter_key_path: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.voter_key_path = Path(voter_key_path) if voter_key_path else self.path.with_name(VOTER_KEY_FILE)
        self.retention_days = retention_days
        self.store_user_ids = store_user_ids
        self.clock = clock
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._conn: sqlite3.Connection | None = None
        self._key = b""
        self._next_purge = 0.0
        self._closing = False
        self._closing_lock = threading.Lock()  # no job may be queued behind the stop, where it would never run
        self._thread = threading.Thread(target=self._run, name="journal", daemon=True)

    # -- lifecycle

    @classmethod
    def open(cls, path: Path, **options: Any) -> Journal:
        """Open (or create) the journal, migrate it and blank expired text; raises JournalError."""
        journal = cls(path, **options)
        ready: Future[None] = Future()
        journal._jobs.put((journal._open, ready))
        journal._thread.start()
        try:
            ready.result()
        except Exception as error:
            journal.close()
            if isinstance(error, JournalError):
                raise
            raise JournalError(f"{path}: cannot open the journal: {error}") from error
        return journal

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then close the database."""
        with self._closing_lock:
            if self._closing:
                return
            self._closing = True
            self._jobs.put(_STOP)
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- the owner thread

    def _run(self) -> None:
        while True:
            wait = max(0.0, self._next_purge - self.clock()) if self._conn is not None else None
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = None
            if self._conn is not None and self.clock() >= self._next_purge:  # the daily purge is due
                self._run_job(self._purge, None)
            if job is _STOP:
                break
            if job is not None:
                self._run_job(*job)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run_job(self, fn: Callable[[], Any], future: Future[Any] | None) -> None:
        try:
            result = fn()
        except Exception as error:  # a full disk costs a journal line, never an answer
            if future is None:
                _log.warning("Journal write failed: %s", error)
            else:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)

    def submit(self, fn: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run fn(connection) on the journal's thread, after everything queued before it."""
        future: Future[T] = Future()
        with self._closing_lock:
            if self._closing:
                future.set_exception(JournalError("the journal is closed"))
            else:
                self._jobs.put((lambda: fn(self._connection()), future))
        return future

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError("the journal is closed")
        return self._conn

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True)
        try:
            conn.execute("PRAGMA journal_mode = WAL")  # readers (the command line's reports) never block the bot
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL makes this safe against corruption
            conn.execute("PRAGMA foreign_keys = ON")
            # A dropped key or blanked text is overwritten, not left behind in free pages.
            conn.execute("PRAGMA secure_delete = ON")
            self._key = voter_key(self.voter_key_path, adopt=_key_in_database(conn))
            if migrate(conn) < 3 <= SCHEMA_VERSION:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nor left in the write-ahead log
            self._conn = conn
            if not self.store_user_ids:
                self._forget_user_ids(conn)
            self._purge()
        except Exception:
            conn.close()
            self._conn = None
            raise

    # -- jobs (run on the owner thread)

    def _purge(self) -> int:
        conn = self._connection()
        cutoff = self.clock() - self.retention_days * DAY
        blanked = conn.execute(
            "UPDATE questions SET question = NULL WHERE asked_at < ? AND question IS NOT NULL", (cutoff,)).rowcount
        self._next_purge = self.clock() + DAY
        if blanked:
            _log.info("Journal: blanked the text of %d questions older than %d days", blanked, self.retention_days)
        return blanked

    def _forget_user_ids(self, conn: sqlite3.Connection) -> None:
        # store_user_ids was on before and is off now: nothing identifying may stay.
        conn.create_function("voter_hash", 2, lambda q, u: self._voter(q, int(u)), deterministic=True)
        with conn:
            conn.execute("BEGIN")
            conn.execute("UPDATE questions SET user_id = NULL WHERE user_id IS NOT NULL")
            conn.execute("UPDATE OR REPLACE votes SET voter = voter_hash(question_id, substr(voter, 2)) "
                         "WHERE voter LIKE 'u%'")

    def _voter(self, question_id: int, user_id: int) -> str:
        if self.store_user_ids:
            return f"u{user_id}"
        digest = hmac.new(self._key, f"{question_id}:{user_id}".encode(), hashlib.sha256).hexdigest()
        return "h" + digest[:24]

    # -- public API (any thread)

    def record(self, asked: Asked) -> Future[None]:
        """Queue one question; returns at once (the future is for tests and the command line)."""
        def write(conn: sqlite3.Connection) -> None:
            expired = asked.asked_at < self.clock() - self.retention_days * DAY
            conn.execute(
                # ON CONFLICT, not OR IGNORE: a redelivered question is skipped, a broken row still fails.
                "INSERT INTO questions (id, asked_at, via, channel_kind, user_id, question, question_lang,"
                " answered, source_path, source_title, answer_lang, guild_id, score, not_sure)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (asked.id, asked.asked_at, asked.via, asked.channel_kind,
                 asked.user_id if self.store_user_ids else None, None if expired else asked.question,
                 asked.question_lang, int(asked.answered), asked.source_path, asked.source_title,
                 asked.answer_lang, asked.guild_id, asked.score, int(asked.not_sure and not asked.answered)),
            )
        future = self.submit(write)
        future.add_done_callback(_log_failure)
        return future

    def vote(self, question_id: int, user_id: int, value: int) -> Future[bool]:
        """One vote per user per answer (a new vote replaces the old); False if the question is unknown."""
        if value not in (-1, 1):
            raise ValueError("a vote is +1 or -1")

        def write(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is None:
                return False
            conn.execute("INSERT OR REPLACE INTO votes (question_id, voter, value, voted_at) VALUES (?, ?, ?, ?)",
                         (question_id, self._voter(question_id, user_id), value, self.clock()))
            return True
        return self.submit(write)

    def entry(self, question_id: int) -> Future[JournalRow | None]:
        def read(conn: sqlite3.Connection) -> JournalRow | None:
            rows = _select(conn, "WHERE q.id = ?", (question_id,))
            return rows[0] if rows else None
        return self.submit(read)

    def rows(self, since: float, guild_id: int | None = None) -> Future[list[JournalRow]]:
        """Questions asked at or after `since`, oldest first; only one server's when guild_id is given."""
        if guild_id is None:
            return self.submit(lambda conn: _select(conn, "WHERE q.asked_at >= ?", (since,)))
        return self.submit(lambda conn: _select(conn, "WHERE q.asked_at >= ? AND q.guild_id = ?", (since, guild_id)))

    def purge(self) -> Future[int]:
        """Blank expired question text now (it also happens at open and daily)."""
        return self.submit(lambda conn: self._purge())


def _log_failure(future: Future[Any]) -> None:
    error = future.exception()
    if error is not None:
        _log.warning("Journal write failed: %s", error)


def _select(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[JournalRow]:
    sql = (
        "SELECT q.id, q.asked_at, q.guild_id, q.via, q.channel_kind, q.question, q.question_lang, q.answered,"
        " q.source_path, q.source_title, q.answer_lang,"
        " COALESCE(SUM(v.value = 1), 0), COALESCE(SUM(v.value = -1), 0), q.not_sure"
        f" FROM questions q LEFT JOIN votes v ON v.question_id = q.id {where}"
        " GROUP BY q.id ORDER BY q.asked_at, q.id"
    )
    return [JournalRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), row[8], row[9],
                       row[10], int(row[11]), int(row[12]), bool(row[13])) for row in conn.execute(sql, params)]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION, one numbered migration at a time; returns the old version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise JournalError(f"the journal has schema version {version}, newer than this bot's {SCHEMA_VERSION}: "
                           "upgrade the bot or point journal.path elsewhere")
    for number in range(version + 1, SCHEMA_VERSION + 1):
        try:
            # executescript commits whatever is open first; BEGIN … COMMIT makes a migration and its
            # version bump one transaction, so a crash leaves the old version, never half of a new one.
            conn.executescript(f"BEGIN;\n{MIGRATIONS[number - 1]}\nPRAGMA user_version = {number};\nCOMMIT;")
        except sqlite3.Error as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise JournalError(f"migration {number} of the journal failed: {error}") from error
        _log.info("Journal migrated to schema version %d", number)
    return version


def _key_in_database(conn: sqlite3.Connection) -> bytes | None:
    """The voters' key of a journal from before migration 3, which kept it in the database: moved
    to the key file, so that the votes already cast are still recognised as their voters'."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'settings'").fetchone() is None:
        return None
    row = conn.execute("SELECT value FROM settings WHERE name = 'voter_key'").fetchone()
    return bytes.fromhex(row[0]) if row is not None else None
