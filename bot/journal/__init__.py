"""The journal: questions and votes in SQLite (`store`), the reports read from it, and the /stats chart."""
