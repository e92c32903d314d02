"""The knowledge engine: markdown notes in, short sourced answers out, in the asker's language.

    from knowledge import Engine
    engine = build_engine(["path/to/notes"])  # from knowledge.indexing
    answer = engine.ask("does DeepSeek use vLLM?")

It never imports discord; the bot and the command line are thin layers on top.
"""
from .model import Answer, LoadProblem, Note, NoteGroup, Passage, Source

__all__ = ["Answer", "LoadProblem", "Note", "NoteGroup", "Passage", "Source", "Engine", "EngineOptions"]


def __getattr__(name: str):  # lazy so that `import knowledge.model` stays light
    if name in ("Engine", "EngineOptions"):
        from . import engine

        return getattr(engine, name)
    raise AttributeError(name)
