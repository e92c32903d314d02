"""The persistent index cache: reused when notes did not change, refreshed when they did."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import knowledge.indexing.pipeline
import knowledge.notes
from knowledge.engine import Engine, EngineOptions
from knowledge.index import PostingTable
from knowledge.indexing import build_engine
from knowledge.indexing.cache import CACHE_FILE, load_cache

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"


@pytest.fixture()
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(BUNDLED, folder)
    (folder / "walrus-en.md").write_text(
        "---\ntitle: Walrus\nlang: en\n---\n\nThe walrus gateway listens on port 7007.\n", encoding="utf-8")
    return folder


def _settled(engine: Engine) -> Engine:
    """Wait for the cache that the build saves in the background."""
    engine.wait_until_saved(timeout=30)
    return engine


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    parsed: list[str] = []
    real = knowledge.notes.parse_note

    def counting(data: bytes, path: str, *args: object, **kwargs: object):
        parsed.append(Path(path).name)
        return real(data, path, *args, **kwargs)

    monkeypatch.setattr(knowledge.notes, "parse_note", counting)
    return parsed


def test_a_warm_build_parses_nothing_and_answers_the_same(notes: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    options = EngineOptions(cache_dir=tmp_path / "cache")
    cold = _settled(build_engine([notes], options))
    parsed = _count_parses(monkeypatch)
    sorts: list[int] = []
    real_from_pairs = PostingTable.from_pairs.__func__
    monkeypatch.setattr(PostingTable, "from_pairs",
                        classmethod(lambda cls, *a, **k: sorts.append(1) or real_from_pairs(cls, *a, **k)))
    warm = _settled(build_engine([notes], options))
    assert parsed == [] and sorts == []  # neither parsed nor indexed again: the saved tables serve
    for question in ("does DeepSeek use vLLM?", "¿OpenAI usa vLLM?", "which port does the walrus gateway use?"):
        assert warm.ask(question) == cold.ask(question)


def test_only_the_changed_note_is_parsed_again(notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = EngineOptions(cache_dir=tmp_path / "cache")
    _settled(build_engine([notes], options))
    (notes / "walrus-en.md").write_text(
        "---\ntitle: Walrus\nlang: en\n---\n\nThe walrus gateway listens on port 8088.\n", encoding="utf-8")
    (notes / "narwhal-en.md").write_text(
        "---\ntitle: Narwhal\nlang: en\n---\n\nThe narwhal scheduler runs every 15 minutes.\n", encoding="utf-8")
    parsed = _count_parses(monkeypatch)
    engine = build_engine([notes], options)
    assert sorted(parsed) == ["narwhal-en.md", "walrus-en.md"]
    assert "8088" in engine.ask("which port does the walrus gateway use?").text
    assert "15 minutes" in engine.ask("how often does the narwhal scheduler run?").text
    assert engine.ask("does DeepSeek use vLLM?").text.startswith("Yes")


def test_a_deleted_note_leaves_the_index(notes: Path, tmp_path: Path) -> None:
    options = EngineOptions(cache_dir=tmp_path / "cache")
    assert _settled(build_engine([notes], options)).ask("which port does the walrus gateway use?").answered
    (notes / "walrus-en.md").unlink()
    engine = _settled(build_engine([notes], options))
    assert not engine.ask("which port does the walrus gateway use?").answered
    # The cache is the last full build: a start layers what changed since over it, every time.
    assert len(load_cache(tmp_path / "cache").notes) == 3
    again = _settled(build_engine([notes], options))
    assert not again.ask("which port does the walrus gateway use?").answered and len(again.notes) == 2


def _document(cache: Path) -> dict:
    with np.load(cache / CACHE_FILE, allow_pickle=False) as npz:
        return json.loads(npz["document"].tobytes().decode("utf-8"))


@pytest.mark.parametrize("damage", ["garbage", "version", "missing-array", "bad-json", "bad-kind"])
def test_a_damaged_or_foreign_cache_is_ignored_and_rewritten(notes: Path, tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    options = EngineOptions(cache_dir=cache)
    _settled(build_engine([notes], options))
    if damage == "garbage":
        (cache / CACHE_FILE).write_bytes(b"not a zip file")
    elif damage == "version":
        document = json.dumps({**_document(cache), "version": "other"}).encode()
        np.savez(cache / CACHE_FILE, document=np.frombuffer(document, dtype=np.uint8))
    elif damage == "bad-json":
        np.savez(cache / CACHE_FILE, document=np.frombuffer(b"{not json", dtype=np.uint8))
    elif damage == "bad-kind":  # readable, but a passage would only fail when an answer reads it
        with np.load(cache / CACHE_FILE, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        arrays["p_kind"] = np.full_like(arrays["p_kind"], 200)
        np.savez(cache / CACHE_FILE, **arrays)
    else:
        np.savez(cache / CACHE_FILE, nothing=np.zeros(1))
    assert load_cache(cache).notes == {}
    engine = _settled(build_engine([notes], options))
    assert engine.ask("does DeepSeek use vLLM?").text.startswith("Yes")
    assert len(load_cache(cache).notes) == 3


def test_the_cache_holds_no_pickle(notes: Path, tmp_path: Path) -> None:
    _settled(build_engine([notes], EngineOptions(cache_dir=tmp_path / "cache")))
    with np.load(tmp_path / "cache" / CACHE_FILE, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
    assert len(_document(tmp_path / "cache")["notes"]) == 3


def test_texts_round_trip_across_pieces(tmp_path: Path) -> None:
    # More passages than one piece of texts holds, one with an emoji and one empty-looking.
    folder = tmp_path / "many"
    folder.mkdir()
    items = "\n".join(f"- item {i} 🚀 ünïcode" if i % 997 == 0 else f"- item {i}" for i in range(9000))
    (folder / "list-en.md").write_text(f"---\ntitle: List\nlang: en\n---\n\n{items}\n", encoding="utf-8")
    options = EngineOptions(cache_dir=tmp_path / "cache")
    cold = _settled(build_engine([folder], options))
    cache = load_cache(tmp_path / "cache")
    assert list(cache.notes[cold.notes[0].path].passages) == list(cold.notes[0].passages)
    assert build_engine([folder], options).ask("item 8973").text == cold.ask("item 8973").text


def test_a_start_from_the_cache_has_the_same_groups_names_and_typo_words(notes: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    options = EngineOptions(cache_dir=tmp_path / "cache")
    cold = _settled(build_engine([notes], options))

    def unexpected(*args, **kwargs):
        raise AssertionError("a start from the cache groups nothing and learns no names again")

    monkeypatch.setattr("knowledge.indexing.pipeline.group_translations", unexpected)
    monkeypatch.setattr("knowledge.indexing.pipeline.untranslated_names", unexpected)
    warm = build_engine([notes], options)
    assert [[n.path for n in g.notes] for g in warm.groups] == [[n.path for n in g.notes] for g in cold.groups]
    assert warm.names == cold.names and warm.index.typo_words == cold.index.typo_words
    assert "walrus" in warm.index.similar_words("walrsu")
    assert warm.ask("which port does the walrsu gateway use?").answered  # a typo, found among the cached words


def test_a_cache_learned_by_older_code_is_learned_again_from_its_notes(notes: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    options = EngineOptions(cache_dir=tmp_path / "cache")
    cold = _settled(build_engine([notes], options))
    assert cold.index.casing.forms  # the seeds write "vLLM" and "DeepSeek"
    # The learners changed since the cache was written (an upgrade): what they learned is stale.
    monkeypatch.setattr("knowledge.indexing.cache.learned_version", lambda: "an older learner")
    relearned = []
    real = knowledge.indexing.pipeline.learn_casing
    monkeypatch.setattr("knowledge.indexing.pipeline.learn_casing", lambda groups: relearned.append(1) or real(groups))
    warm = build_engine([notes], options)
    assert relearned == [1]
    assert warm.index.casing == cold.index.casing and warm.names == cold.names
    assert warm.index.openers == cold.index.openers
