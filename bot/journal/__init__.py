"""The journal: questions and votes in SQLite (`store`), the voters' key (`voter_key`), the reports
read from it (`reports`) and the /stats chart (`chart`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config
    from .store import Journal


def open_journal(config: Config) -> Journal:
    """The journal the configuration names, with its retention, user-ID rule and key file; raises JournalError."""
    from .store import Journal

    return Journal.open(config.journal_path, retention_days=config.journal.retention_days,
                        store_user_ids=config.journal.store_user_ids, voter_key_path=config.voter_key_path)
