"""The journal on its own: migrations, retention, votes, and the no-user-IDs mode."""
from __future__ import annotations

import hashlib
import hmac
import sqlite3
import stat

import pytest

from bot.journal.store import DAY, MIGRATIONS, SCHEMA_VERSION, Asked, Journal, JournalError

NOW = 1_800_000_000.0
ALICE = 412345678901234567


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def asked(id: int, when: float, question: str = "How do I install it?", answered: bool = False, **kw) -> Asked:
    return Asked(id=id, asked_at=when, via="slash", channel_kind="text", question=question, question_lang="en",
                 answered=answered, **kw)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "state" / "journal.sqlite3"


def test_a_new_journal_has_the_current_schema_in_wal_mode(path):
    journal = Journal.open(path)
    journal.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_old_version_database_is_migrated_and_keeps_its_rows(path):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)  # a journal written by the first release: schema version 1
    conn.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    conn.execute("INSERT INTO questions (id, asked_at, via, channel_kind, user_id, question, question_lang, answered)"
                 " VALUES (1, ?, 'slash', 'text', ?, 'old question', 'en', 0)", (NOW - DAY, ALICE))
    conn.execute("INSERT INTO votes VALUES (1, ?, -1, ?)", (f"u{ALICE}", NOW - DAY))
    conn.commit()
    conn.close()
    journal = Journal.open(path, clock=Clock(), store_user_ids=True)
    [row] = journal.rows(0).result()
    assert (row.id, row.question, row.down, row.guild_id) == (1, "old question", 1, None)  # the new column is empty
    journal.record(asked(2, NOW, guild_id=7, score=0.5)).result()
    assert [r.guild_id for r in journal.rows(0).result()] == [None, 7]
    journal.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_database_from_a_newer_bot_is_refused_untouched(path):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(JournalError, match="newer than this bot"):
        Journal.open(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_a_file_that_is_not_a_database_is_a_clear_error(path):
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not SQLite" * 100)
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal.open(path)


def test_question_text_is_blanked_after_the_retention_at_open_and_daily(path):
    clock = Clock()
    journal = Journal.open(path, retention_days=30, clock=clock)
    journal.record(asked(1, NOW - 31 * DAY)).result()  # already past retention when it arrives
    journal.record(asked(2, NOW - 29 * DAY)).result()
    journal.record(asked(3, NOW)).result()
    assert [r.question is None for r in journal.rows(0).result()] == [True, False, False]
    clock.now += 1.5 * DAY  # a day and a half later, without a restart: the daily purge runs
    journal.rows(0).result()  # any job wakes the journal's thread
    assert [r.question is None for r in journal.rows(0).result()] == [True, True, False]
    rows = journal.rows(0).result()
    assert [r.question_lang for r in rows] == ["en"] * 3  # counts and languages stay for the statistics
    journal.close()
    clock.now += 30 * DAY
    journal = Journal.open(path, retention_days=30, clock=clock)  # at open
    assert all(r.question is None for r in journal.rows(0).result())
    journal.close()


def test_one_vote_per_user_per_answer(path):
    journal = Journal.open(path, clock=Clock())
    journal.record(asked(1, NOW, answered=True)).result()
    assert journal.vote(1, ALICE, 1).result()
    assert journal.vote(1, ALICE, 1).result()
    assert journal.vote(1, ALICE + 1, -1).result()
    [row] = journal.rows(0).result()
    assert (row.up, row.down) == (1, 1)
    journal.vote(1, ALICE, -1).result()  # changing a vote replaces it
    [row] = journal.rows(0).result()
    assert (row.up, row.down) == (0, 2)
    assert journal.vote(99, ALICE, 1).result() is False  # an unknown answer
    journal.close()


def test_switching_user_ids_off_forgets_the_stored_ones_and_keeps_the_votes(path):
    journal = Journal.open(path, clock=Clock(), store_user_ids=True)
    journal.record(asked(1, NOW, answered=True, user_id=ALICE)).result()
    journal.vote(1, ALICE, 1).result()
    journal.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT user_id FROM questions").fetchall() == [(ALICE,)]
    conn.close()

    journal = Journal.open(path, clock=Clock(), store_user_ids=False)
    journal.vote(1, ALICE, -1).result()  # still recognised as the same voter: replaces, does not add
    [row] = journal.rows(0).result()
    assert (row.up, row.down) == (0, 1)
    journal.close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT user_id FROM questions").fetchall() == [(None,)]
    [(voter,)] = conn.execute("SELECT voter FROM votes").fetchall()
    assert str(ALICE) not in voter and voter.startswith("h")


def test_a_failed_write_is_logged_and_the_journal_goes_on(path, caplog):
    journal = Journal.open(path, clock=Clock())
    bad = asked(1, NOW)
    object.__setattr__(bad, "via", None)  # NOT NULL: SQLite refuses the row
    future = journal.record(bad)
    with pytest.raises(sqlite3.IntegrityError):
        future.result()
    journal.record(asked(2, NOW)).result()
    assert [r.id for r in journal.rows(0).result()] == [2]
    assert "Journal write failed" in caplog.text
    journal.close()


def test_a_schema_3_journal_gains_not_sure_and_its_rows_read_as_they_were(path):
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + MIGRATIONS[2] + "PRAGMA user_version = 3;")
    conn.execute("INSERT INTO questions (id, asked_at, via, channel_kind, question, question_lang, answered)"
                 " VALUES (1, ?, 'slash', 'text', 'old', 'en', 0)", (NOW,))
    conn.commit()
    conn.close()
    journal = Journal.open(path, clock=lambda: NOW)
    journal.record(asked(2, NOW, "offered", not_sure=True, source_path="a.md", source_title="A")).result()
    journal.record(asked(3, NOW, "answered", answered=True, not_sure=True)).result()  # an answer is never "not sure"
    rows = journal.rows(0).result()
    journal.close()
    assert [(r.id, r.answered, r.not_sure) for r in rows] == [(1, False, False), (2, False, True), (3, True, False)]
    assert rows[1].source_title == "A"


def test_a_journal_that_kept_its_key_inside_moves_it_to_the_key_file(path):
    # Schema 2 kept the voters' key in the database, where a copy of the file carried it.
    path.parent.mkdir(parents=True)
    old_key = bytes(range(32))
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + MIGRATIONS[1] + "PRAGMA user_version = 2;")
    conn.execute("INSERT INTO settings VALUES ('voter_key', ?)", (old_key.hex(),))
    conn.execute("INSERT INTO questions (id, asked_at, via, channel_kind, question, question_lang, answered)"
                 " VALUES (1, ?, 'slash', 'text', 'q', 'en', 1)", (NOW,))
    old_vote = "h" + hmac.new(old_key, f"1:{ALICE}".encode(), hashlib.sha256).hexdigest()[:24]
    conn.execute("INSERT INTO votes VALUES (1, ?, 1, ?)", (old_vote, NOW))
    conn.commit()
    conn.close()
    journal = Journal.open(path, clock=lambda: NOW)
    journal.vote(1, ALICE, -1).result()  # still her vote: replaced, not added
    journal.close()
    key_file = path.with_name("voter.key")
    assert bytes.fromhex(key_file.read_text()) == old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT voter, value FROM votes").fetchall() == [(old_vote, -1)]
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'settings'").fetchone() is None
    conn.close()
    for file in path.parent.glob(path.name + "*"):  # not in the database, nor its write-ahead log
        assert old_key.hex().encode() not in file.read_bytes(), file


def test_a_damaged_key_file_is_a_clear_error_not_a_new_key(path):
    path.parent.mkdir(parents=True)
    path.with_name("voter.key").write_text("not a key\n")
    with pytest.raises(JournalError, match="voter.key does not hold a voter key"):
        Journal.open(path)
