"""Incremental reloads: refresh_engine reads only changed files and layers them over the old index."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import knowledge.notes
from knowledge.engine import Engine, EngineOptions
from knowledge.indexing import build_engine, refresh_engine

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"
QUESTIONS = [
    "does DeepSeek use vLLM?", "¿OpenAI usa vLLM?", "which port does the walrus gateway use?",
    "how often does the narwhal scheduler run?", "what does the otter cache store?",
]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000  # a new mtime even on a coarse clock
    os.utime(path, ns=(stamp, stamp))


def _note(title: str, body: str, lang: str = "en") -> str:
    return f"---\ntitle: {title}\nlang: {lang}\n---\n\n{body}\n"


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(BUNDLED, folder)
    _write(folder / "notes" / "walrus-en.md", _note("Walrus", "The walrus gateway listens on port 7007."))
    _write(folder / "notes" / "otter-en.md", _note("Otter", "The otter cache stores session tokens for an hour."))
    return folder


def _sources(engine: Engine) -> list[tuple[bool, str | None, str]]:
    out = []
    for question in QUESTIONS:
        answer = engine.ask(question)
        out.append((answer.answered, answer.sources[0].path if answer.sources else None, answer.text))
    return out


def test_nothing_changed_reads_no_file_and_keeps_the_index(notes: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = build_engine([notes])
    read: list[str] = []
    real = knowledge.notes._read
    monkeypatch.setattr(knowledge.notes, "_read", lambda path, limit: read.append(path) or real(path, limit))
    again = refresh_engine(engine)
    assert read == []
    assert again.index is engine.index


def test_an_edit_is_answered_and_the_old_engine_still_answers_the_old_text(notes: Path) -> None:
    engine = build_engine([notes])
    _write(notes / "notes" / "walrus-en.md", _note("Walrus", "The walrus gateway listens on port 8088."))
    fresh = refresh_engine(engine)
    assert fresh.index is not engine.index and len(fresh.index.postings.layers) == 2
    assert "8088" in fresh.ask("which port does the walrus gateway use?").text
    assert "7007" in engine.ask("which port does the walrus gateway use?").text
    assert "7007" not in fresh.ask("which port does the walrus gateway use?").text


def test_added_translation_joins_its_note_and_deleted_note_leaves(notes: Path) -> None:
    engine = build_engine([notes])
    _write(notes / "_posts" / "es" / "walrus-es.md",
           _note("Morsa", "La pasarela morsa escucha en el puerto 7007.", lang="es"))
    (notes / "notes" / "otter-en.md").unlink()
    fresh = refresh_engine(engine)
    answer = fresh.ask("¿en qué puerto escucha la pasarela morsa?")
    assert answer.answered and answer.answer_language == "es" and "7007" in answer.text
    walrus = next(g for g in fresh.groups if any(n.key == "walrus" for n in g.notes))
    assert sorted(n.lang for n in walrus.notes) == ["en", "es"]
    assert not fresh.ask("what does the otter cache store?").answered
    assert len(fresh.notes) == len(engine.notes)  # one added, one removed


def test_refreshed_answers_equal_a_full_build(notes: Path) -> None:
    engine = build_engine([notes])
    _write(notes / "notes" / "narwhal-en.md", _note("Narwhal", "The narwhal scheduler runs every 15 minutes."))
    engine = refresh_engine(engine)
    _write(notes / "notes" / "walrus-en.md", _note("Walrus", "The walrus gateway listens on port 9099."))
    engine = refresh_engine(engine)
    full = build_engine([notes])
    assert [(a, s) for a, s, _ in _sources(engine)] == [(a, s) for a, s, _ in _sources(full)]
    assert "9099" in engine.ask("which port does the walrus gateway use?").text
    assert "15 minutes" in engine.ask("how often does the narwhal scheduler run?").text


def test_a_regrouping_change_falls_back_to_a_full_build(notes: Path) -> None:
    engine = build_engine([notes])
    _write(notes / "notes" / "walrus-en.md",
           "---\ntitle: Walrus\nlang: en\ntranslation_key: marine\n---\n\nThe walrus gateway listens on port 7007.\n")
    fresh = refresh_engine(engine)
    assert len(fresh.index.postings.layers) == 1  # rebuilt, not layered
    assert "7007" in fresh.ask("which port does the walrus gateway use?").text


def test_a_note_broken_by_an_edit_is_reported_and_stops_answering(notes: Path) -> None:
    engine = build_engine([notes])
    _write(notes / "notes" / "walrus-en.md", "---\ntitle: [broken\n---\n\nbody\n")
    fresh = refresh_engine(engine)
    assert [Path(p.path).name for p in fresh.problems] == ["walrus-en.md"]
    assert not fresh.ask("which port does the walrus gateway use?").answered


def test_a_start_over_a_cache_of_more_notes_builds_afresh(tmp_path: Path) -> None:
    # A cache written for two folders, then a start over one of them: most of the cached notes are gone,
    # and keeping them as dead passages would weigh on every question (and skew word statistics).
    kept, other, cache = tmp_path / "kept", tmp_path / "other", tmp_path / "cache"
    shutil.copytree(BUNDLED, kept)
    for i in range(20):
        _write(other / f"garden{i}-en.md", _note(f"Garden {i}", f"Bed {i} needs water and sun every day."))
    build_engine([kept, other], EngineOptions(cache_dir=cache, semantic=False)).wait_until_saved()
    started = build_engine([kept], EngineOptions(cache_dir=cache, semantic=False))
    assert started.index.dead.size == 0 and started.index.layered_passages == 0
    assert {note.rel_path for note in started.notes} == {note.rel_path for note in
                                                         build_engine([kept], EngineOptions(semantic=False)).notes}
