"""The build, stage by stage: what each stage of knowledge.indexing hands on to the next."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import knowledge.indexing.embedding as embedding
from knowledge.dense import TITLE_ROW, NoteVectors
from knowledge.encoder import load_encoder
from knowledge.engine import Engine, EngineOptions
from knowledge.indexing import build_engine
from knowledge.indexing.grouping import group_translations
from knowledge.indexing.postings import assemble_index
from knowledge.indexing.projection import fit_projection
from knowledge.indexing.rows import embedded_notes, note_rows
from knowledge.indexing.vectors import dense_index
from knowledge.indexing.words import Vocabulary, tokenize_notes
from knowledge.notes import load_notes
from knowledge.suggest import Choices

NOTES = {
    "notes/2025-01-02-kafka-en.md": """---
title: Kafka retention
lang: en
---

## Retention

Kafka keeps messages for seven days by default; set `retention.ms` on a topic to keep them longer.

## Partitions

| setting | default |
|---|---|
| num.partitions | 1 |
""",
    "_posts/es/2025-01-02-kafka-es.md": """---
title: Retención en Kafka
lang: es
---

## Retención

Kafka guarda los mensajes siete días por defecto; configura `retention.ms` en un tema para guardarlos más tiempo.

## Particiones

| ajuste | valor por defecto |
|---|---|
| num.partitions | 1 |
""",
    "notes/psql-en.md": """---
title: Leaving psql
lang: en
---

Type `\\q` and press Enter to exit psql.
""",
    "notes/broken-en.md": "---\ntitle: [unclosed\nlang: en\n---\n\nbody\n",
}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    for rel, text in NOTES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    return tmp_path


def test_each_stage_hands_on_what_the_next_needs(folder: Path) -> None:
    # files → parsed notes, and a broken file as a problem with its line
    loaded = load_notes([folder])
    assert sorted(n.rel_path for n in loaded.notes) == sorted(p for p in NOTES if "broken" not in p)
    assert [Path(p.path).name for p in loaded.problems] == ["broken-en.md"] and loaded.problems[0].line
    notes = loaded.notes

    # → translation groups: the Kafka note and its Spanish translation are one group
    groups = group_translations(notes)
    assert sorted(sorted(n.lang for n in g.notes) for g in groups) == [["en"], ["en", "es"]]

    # → words: each note's terms in one shared vocabulary
    vocabulary = Vocabulary()
    parts = tokenize_notes(notes, None, vocabulary)
    assert len(parts) == len(notes) and "retention" in vocabulary and "psql" in vocabulary
    assert all(part.counts.size == len(note.passages) for part, note in zip(parts, notes))

    # → word index: a term's postings are the passages that hold it
    index = assemble_index(groups, notes, parts, vocabulary)
    held = index.postings["psql"].passages
    assert {index.note_of(int(pid)).rel_path for pid in held} == {"notes/psql-en.md"}

    # → rows: one note per group is embedded (the original), its title, one row per section, one per fact
    # (here each section holds one paragraph: its section row stands for it)
    embedded = embedded_notes(index.groups)
    assert sorted(n.rel_path for n in embedded) == ["notes/2025-01-02-kafka-en.md", "notes/psql-en.md"]
    kafka = next(n for n in embedded if "kafka" in n.rel_path)
    rows = note_rows(kafka)
    assert rows.texts[0] == "Kafka retention" and rows.passages[0] == TITLE_ROW
    assert [kafka.passages[p].section for p in rows.passages[1:]] == [("Retention",), ("Partitions",)]

    # → vectors: the encoder's (512 wide), one per row text
    encoder = load_encoder()
    texts = [text for note in embedded for text in note_rows(note).texts]
    raw = embedding.embed_texts(encoder, texts)
    assert raw.shape == (len(texts), 512) and raw.dtype == np.float16

    # → projection and the dense index: unit rows, each note's rows found by its id
    projection = fit_projection(raw)
    projected = projection.apply(raw)
    assert np.allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-3)
    vectors, at = {}, 0
    for note in embedded:
        made = note_rows(note)
        vectors[note.content_hash] = NoteVectors(projected[at:at + len(made.texts)].astype(np.float16),
                                                 np.asarray(made.passages, np.int32))
        at += len(made.texts)
    dense = dense_index(index, embedded, vectors, projection)
    assert dense.rows.shape == (len(texts), projected.shape[1])
    assert dense.rows_of([index.note_ids[kafka.path]]).size == len(rows.texts)
    spanish = next(n for n in notes if n.lang == "es")
    assert dense.rows_of([index.note_ids[spanish.path]]).size == 0

    # → the engine answers, from the asker's translation
    engine = Engine(dataclasses.replace(index, dense=dense), loaded.problems, (folder,),
                    choices=Choices.from_groups(groups), encoder=encoder, vectors=vectors)
    answer = engine.ask("¿cuántos días guarda Kafka los mensajes?")
    assert answer.answered and answer.sources[0].path == spanish.rel_path and "siete días" in answer.text


def test_the_pipeline_builds_the_same_engine_as_its_stages(folder: Path) -> None:
    engine = build_engine([folder])
    assert sorted(n.rel_path for n in engine.notes) == sorted(p for p in NOTES if "broken" not in p)
    assert engine.index.dense is not None and len(engine.vectors) == 2  # one embedded note per group
    answer = engine.ask("how do I exit psql?")
    assert answer.sources[0].path == "notes/psql-en.md" and "\\q" in answer.text


def test_rows_embedded_in_worker_processes_are_the_rows_embedded_here(monkeypatch: pytest.MonkeyPatch) -> None:
    encoder = load_encoder()
    texts = [f"Note {i}: the daemon number {i} listens on port {4000 + i}." for i in range(40)]
    here = embedding.embed_texts(encoder, texts, workers=1)
    monkeypatch.setattr(embedding, "MIN_PARALLEL_ROWS", 1)
    monkeypatch.setattr(embedding, "CHUNK_ROWS", 7)
    seen: list[tuple[str, int, int]] = []
    there = embedding.embed_texts(encoder, texts, workers=2, progress=lambda *args: seen.append(args))
    assert np.allclose(here.astype(np.float32), there.astype(np.float32), atol=2e-3)
    assert seen[0] == ("embed", 0, 40) and seen[-1] == ("embed", 40, 40)  # the start, then each chunk in order
    assert [done for _, done, _ in seen] == [0, 7, 14, 21, 28, 35, 40]


def test_names_are_learned_by_the_build_and_kept_in_its_cache(folder: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "_posts" / "zh").mkdir(parents=True)
    (folder / "_posts" / "zh" / "psql-zh.md").write_text(
        "---\ntitle: 退出 psql\nlang: zh\n---\n\n输入 `\\q` 然后按 Enter 退出 psql。\n", encoding="utf-8")
    cache = tmp_path / "cache"
    first = build_engine([folder], EngineOptions(cache_dir=cache))
    first.wait_until_saved()
    assert "psql" in first.names  # kept in Latin letters by the Chinese translation

    def unexpected(groups):
        raise AssertionError("the names of unchanged notes come from the cache")

    monkeypatch.setattr("knowledge.indexing.pipeline.untranslated_names", unexpected)
    second = build_engine([folder], EngineOptions(cache_dir=cache))
    assert second.names == first.names and second.ask("¿cómo salgo de psql?").language == "es"
