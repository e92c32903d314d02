"""The build: note files in, an Engine out (pipeline.py reads top to bottom; reload.py redoes it for changes)."""
from .pipeline import build_engine
from .reload import refresh_engine, with_changes

__all__ = ["build_engine", "refresh_engine", "with_changes"]
