"""Sentence vectors: cross-language answers, the vectors cache, switching them off, reloads."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge import semantic
from knowledge.engine import Engine, EngineOptions
from knowledge.semantic import NoteVectors, embed_notes, load_vectors, note_rows, save_vectors
from knowledge.store import VECTORS_FILE

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
        self.inner = semantic.load_encoder()
        self.texts = 0

    def encode(self, texts):
        self.texts += len(texts)
        return self.inner.encode(texts)


@pytest.fixture()
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    encoder = CountingEncoder()
    monkeypatch.setattr("knowledge.engine.load_encoder", lambda: encoder)
    return encoder


def test_a_question_in_a_language_no_note_is_written_in_is_answered(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    engine = Engine.build([tmp_path])
    answer = engine.ask("Kafka はメッセージを何日間保持しますか？")
    assert answer.answered and answer.language == "ja" and answer.answer_language == "en"
    assert "seven days" in answer.text


def test_without_sentence_vectors_the_engine_still_answers_by_words(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    engine = Engine.build([tmp_path], EngineOptions(semantic=False))
    assert engine.index.dense is None and engine.encoder is None
    answer = engine.ask("where does a kafka consumer group store its committed offsets?")
    assert answer.answered and "__consumer_offsets" in answer.text


def test_rows_are_the_title_and_one_per_section(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    note = Engine.build([tmp_path], EngineOptions(semantic=False)).notes[0]
    rows = note_rows(note)
    assert rows.texts[0] == "Kafka Consumer Groups" and rows.passages[0] == semantic.TITLE_ROW
    assert len(rows.texts) == 4 and rows.texts[1].startswith("Rebalancing ")
    assert note.passages[rows.passages[2]].section == ("Offsets",)


def test_a_start_from_the_cache_embeds_nothing_again(tmp_path: Path, counting: CountingEncoder) -> None:
    notes, cache = tmp_path / "notes", tmp_path / "cache"
    shutil.copytree(BUNDLED, notes)
    first = Engine.build([notes], EngineOptions(cache_dir=cache))
    first.wait_until_saved()
    embedded = counting.texts
    assert embedded > 0 and (cache / VECTORS_FILE).exists()
    second = Engine.build([notes], EngineOptions(cache_dir=cache))
    second.wait_until_saved()
    assert counting.texts == embedded  # every note's vectors came from the cache
    # The projected rows were kept (in float16): nothing is projected again at start.
    assert np.allclose(first.index.dense.rows, second.index.dense.rows, atol=1e-3)
    assert second.index.dense.projection.rows == first.index.dense.projection.rows  # kept, not learned again
    assert second.ask("¿DeepSeek usa vLLM?").answered


def test_a_changed_note_is_embedded_alone_on_refresh(tmp_path: Path, counting: CountingEncoder) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(BUNDLED, notes)
    engine = Engine.build([notes])
    before = counting.texts
    (notes / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    refreshed = engine.refresh()
    kafka = next(note for note in refreshed.notes if note.rel_path == "kafka-en.md")
    assert counting.texts - before == len(note_rows(kafka).texts)  # the new note's rows only
    answer = refreshed.ask("Kafka はメッセージを何日間保持しますか？")
    assert answer.answered and answer.sources[0].path == "kafka-en.md"
    (notes / "kafka-en.md").unlink()
    gone = refreshed.refresh()
    assert not any(s.path == "kafka-en.md" for s in gone.ask("Kafka はメッセージを何日間保持しますか？").sources)


def test_the_vectors_cache_round_trips_and_rejects_another_version(tmp_path: Path) -> None:
    vectors = {"abc": NoteVectors(np.arange(1024, dtype=np.float16).reshape(2, 512), np.array([-1, 3], np.int32))}
    projection = semantic.Projection(np.ones(512, np.float32), np.eye(512, 128, dtype=np.float32), 1000)
    save_vectors(tmp_path, "v1", vectors, projection)
    loaded = load_vectors(tmp_path, "v1")
    assert list(loaded.vectors) == ["abc"] and np.array_equal(loaded.vectors["abc"].vectors, vectors["abc"].vectors)
    assert list(loaded.vectors["abc"].passages) == [-1, 3]
    assert np.array_equal(loaded.projection.basis, projection.basis) and loaded.projection.rows == 1000
    assert load_vectors(tmp_path, "v2").vectors == {}
    (tmp_path / VECTORS_FILE).write_bytes(b"not a zip")
    assert load_vectors(tmp_path, "v1").vectors == {}
    assert not list(tmp_path.glob("*.tmp"))


def test_known_vectors_are_reused_by_content(tmp_path: Path) -> None:
    (tmp_path / "kafka-en.md").write_text(KAFKA_EN, encoding="utf-8")
    note = Engine.build([tmp_path], EngineOptions(semantic=False)).notes[0]
    known = {semantic.note_key(note): NoteVectors(np.zeros((3, 512), np.float16), np.array([-1, 0, 2], np.int32))}

    class Refusing:
        name = "none"

        def encode(self, texts):
            raise AssertionError("nothing should be embedded")

    assert embed_notes(Refusing(), [note], known) == known


def test_a_projection_is_learned_again_when_the_blog_doubles_or_halves() -> None:
    kept = semantic.Projection(np.zeros(512, np.float32), np.eye(512, 128, dtype=np.float32), 10_000)
    assert kept.suits(10_000) and kept.suits(19_000) and kept.suits(6_000)
    assert not kept.suits(25_000) and not kept.suits(4_000) and not kept.suits(100)
