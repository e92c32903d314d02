"""Notes read in worker processes are the notes read here, with the same terms."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import knowledge.indexing.reading
from knowledge.engine import Engine, EngineOptions
from knowledge.indexing import build_engine
from knowledge.indexing.postings import tables_of
from knowledge.indexing.reading import ParallelReader
from knowledge.indexing.words import NoteTerms, Vocabulary, tokenize_note
from knowledge.notes import load_notes

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "blog"
pytestmark = [
    pytest.mark.skipif(not CORPUS.is_dir(), reason="needs ../shared/corpus/blog"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only"),
]


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "blog"
    shutil.copytree(CORPUS, folder)
    (folder / "notes" / "broken-en.md").write_text("---\ntitle: [unclosed\n---\n\nBody.\n", encoding="utf-8")
    return folder


@pytest.fixture()
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knowledge.indexing.reading, "MIN_FILES", 1)


def _words(part: NoteTerms, vocabulary: dict[str, int]) -> tuple[list[str], list[str]]:
    words = np.array(list(vocabulary), dtype=object)
    return sorted(words[part.title_ids]), list(words[part.key_ids])


def _postings(table, vocabulary: dict[str, int]) -> dict[str, tuple[list[int], list[float]]]:
    words = list(vocabulary)
    return {words[row]: (table.items[a:b].tolist(), table.weights[a:b].tolist())
            for row, (a, b) in enumerate(zip(table.offsets[:-1].tolist(), table.offsets[1:].tolist())) if b > a}


def test_workers_read_the_same_notes_and_terms_as_one_process(notes: Path, always_parallel: None) -> None:
    serial = load_notes([notes])
    vocabulary = Vocabulary()
    reader = ParallelReader(vocabulary, workers=2)
    parallel = load_notes([notes], read_many=reader)

    assert parallel.notes == serial.notes  # every field, every passage, same order
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems]
    assert any("broken-en.md:2: invalid YAML" in str(p) for p in parallel.problems)  # the line its bracket opens
    assert set(reader.terms) == {note.path for note in serial.notes}
    alone = Vocabulary()
    parts = []
    for note in serial.notes:
        theirs = reader.terms[note.path]
        ours = tokenize_note(note, alone)
        parts.append(ours)
        assert _words(theirs, vocabulary) == _words(ours, alone)
        assert np.array_equal(theirs.counts, ours.counts) and np.array_equal(theirs.key_counts, ours.key_counts)
    # Their (term, frequency) pairs travel sorted: merged, they are the postings made here.
    merged, _ = reader.text_table(parallel.notes)
    here = tables_of(parts, list(alone), rows=alone).text
    assert _postings(merged, vocabulary) == _postings(here, alone)


def test_an_engine_built_by_workers_answers_like_one_built_here(notes: Path, always_parallel: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    merged: list[int] = []
    real_merge = knowledge.indexing.reading.merge_sorted

    def counting_merge(blocks, term_ids, term_count):  # type: ignore[no-untyped-def]
        merged.append(len(blocks))
        return real_merge(blocks, term_ids, term_count)

    monkeypatch.setattr(knowledge.indexing.reading, "merge_sorted", counting_merge)
    # Words only: workers read and tokenize; sentence vectors are made in this process either way,
    # and embedding the blog twice more would only make this test slow.
    one = build_engine([notes], EngineOptions(workers=1, semantic=False))
    two = build_engine([notes], EngineOptions(workers=2, semantic=False))
    assert merged and merged[0] > 1  # the text table came from the workers' shares
    for question in ("does DeepSeek use vLLM?", "¿OpenAI usa vLLM?", "what is the capital of Mars?"):
        a, b = one.ask(question), two.ask(question)
        assert (a.answered, a.text, a.sources, a.score) == (b.answered, b.text, b.sources, b.score)
    assert one.stats() == two.stats()
    # The workers' sorted shares merge into the very table one sort of all pairs makes.
    terms = set(one.index.postings)
    assert terms == set(two.index.postings)
    for term in terms:
        a, b = one.index.postings[term], two.index.postings[term]
        assert np.array_equal(a.passages, b.passages) and np.array_equal(a.weights, b.weights), term
    assert one.index.avg_length == two.index.avg_length


def test_when_workers_cannot_start_the_notes_are_read_here(notes: Path, always_parallel: None,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no processes for you")

    monkeypatch.setattr(knowledge.indexing.reading, "ProcessPoolExecutor", refuse)
    reader = ParallelReader(Vocabulary(), workers=2)
    loaded = load_notes([notes], read_many=reader)
    assert loaded.notes == load_notes([notes]).notes  # every field, every passage
    assert reader.terms == {}  # nothing half-collected: the caller tokenizes
    assert "no processes for you" in caplog.text


def test_workers_start_from_a_thread_beside_a_running_event_loop(notes: Path, always_parallel: None) -> None:
    # The bot builds (/reload with many changes) in an executor thread while its event loop runs.
    import asyncio

    async def build_beside_the_loop() -> tuple[Engine, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticker = asyncio.create_task(tick())
        engine = await asyncio.get_running_loop().run_in_executor(None, build_engine, [notes],
                                                                   EngineOptions(workers=2, semantic=False))
        ticker.cancel()
        return engine, ticks

    engine, ticks = asyncio.run(build_beside_the_loop())
    assert ticks > 0  # the loop kept running while the workers read
    assert engine.ask("does DeepSeek use vLLM?").answered
    assert engine.stats()["notes"] == len(load_notes([notes]).notes)
