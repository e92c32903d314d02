"""Reloading the notes: the reload itself, the watcher that triggers it, and the git pull before it."""
