"""The key of the voters' hashes, in a file of its own beside (never inside) the journal.

A vote is stored as HMAC-SHA256(key, "question_id:user_id"). Anyone holding the key and the
member list (every member can see it) could recompute every hash and so tell who voted;
kept in the database, the key travelled with every copy of the journal. In its own file
(mode 0600, created on first use) a copy of the journal alone tells nothing about voters.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

VOTER_KEY_FILE = "voter.key"
KEY_BYTES = 32


class VoterKeyError(RuntimeError):
    """The key file exists but does not hold a key (edited by hand, truncated)."""


def read_voter_key(path: Path) -> bytes | None:
    """The key in `path`, or None when there is no such file."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise VoterKeyError(f"{path} does not hold a voter key ({KEY_BYTES * 2} hex digits)")
    return key


def voter_key(path: Path, adopt: bytes | None = None) -> bytes:
    """The key in `path`; without that file, write `adopt` (a journal's old key) or a new random
    key there, readable by this user only. Two processes creating it at once agree on one key."""
    key = read_voter_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # the other process won: use its key
        return read_voter_key(path) or b""
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write((adopt or secrets.token_bytes(KEY_BYTES)).hex() + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    key = read_voter_key(path)
    assert key is not None
    return key
