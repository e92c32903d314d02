"""group_translations: explicit key, file key, shared structure; one note per language per group."""
from __future__ import annotations

import shutil
from pathlib import Path

from knowledge.indexing.grouping import group_translations
from knowledge.model import Note, Passage
from knowledge.notes import load_notes

REPO = Path(__file__).resolve().parents[1]
SEED_EN = REPO / "bot" / "notes" / "notes" / "vllm-adoption-ai-providers-en.md"
SEED_ES = REPO / "bot" / "notes" / "_posts" / "es" / "vllm-adoption-ai-providers-es.md"


def note(path: str, lang: str, key: str, meta: dict | None = None, links: tuple[str, ...] = (),
         shapes: tuple[tuple[int, int], ...] = ()) -> Note:
    return Note(path=f"/n/{path}", rel_path=path, title=path, lang=lang, key=key,
                passages=(Passage(kind="paragraph", text=path),), meta=meta or {}, links=links,
                table_shapes=shapes)


def by_key(groups) -> dict[str, list[tuple[str, str]]]:
    return {g.key: [(n.lang, n.rel_path) for n in g.notes] for g in groups}


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_group_by_file_key_across_folders(tmp_path: Path):
    write(tmp_path / "notes" / "2025-02-27-kafka-en.md", "---\nlang: en\ntitle: Kafka\n---\nKafka text.\n")
    write(tmp_path / "_posts" / "es" / "2025-02-27-kafka-es.md", "---\nlang: es\ntitle: Kafka ES\n---\nTexto.\n")
    write(tmp_path / "_posts" / "zh" / "2025-02-27-kafka-zh.md", "---\nlang: zh\n---\n卡夫卡。\n")
    write(tmp_path / "notes" / "other-en.md", "Other text.\n")
    groups = group_translations(load_notes([tmp_path]).notes)
    assert by_key(groups) == {
        "kafka": [("en", "notes/2025-02-27-kafka-en.md"), ("zh", "_posts/zh/2025-02-27-kafka-zh.md"),
                  ("es", "_posts/es/2025-02-27-kafka-es.md")],
        "other": [("en", "notes/other-en.md")],
    }
    assert groups[0].in_language("es").title == "Kafka ES"


def test_explicit_key_beats_file_names():
    notes = [
        note("post-a-en.md", "en", "post-a", {"ref": "intro"}),
        note("bienvenida-es.md", "es", "bienvenida", {"lang_ref": "intro"}),  # different name, same ref
        note("willkommen-de.md", "de", "willkommen", {"lang-ref": "intro"}),
        note("yokoso-ja.md", "ja", "yokoso", {"translation_key": "intro"}),
        note("post-a-fr.md", "fr", "post-a", {"ref": "something-else"}),  # same file key, other ref
    ]
    groups = by_key(group_translations(notes))
    assert groups["post-a"] == [("en", "post-a-en.md"), ("ja", "yokoso-ja.md"), ("es", "bienvenida-es.md"),
                                ("de", "willkommen-de.md")]
    assert groups["post-a~2"] == [("fr", "post-a-fr.md")]


def test_seeds_under_original_names_group_by_structure(tmp_path: Path):
    shutil.copy(SEED_EN, tmp_path / "000_3afbcac0d9830f26.md")
    shutil.copy(SEED_ES, tmp_path / "002_0d39110792833dac.md")
    write(tmp_path / "unrelated.md", "---\nlang: es\n---\nOtro [a](https://a.example) [b](https://b.example)\n")
    result = load_notes([tmp_path])
    assert result.problems == ()
    groups = group_translations(result.notes)
    assert by_key(groups) == {
        "000_3afbcac0d9830f26": [("en", "000_3afbcac0d9830f26.md"), ("es", "002_0d39110792833dac.md")],
        "unrelated": [("es", "unrelated.md")],
    }
    group = groups[0]
    assert group.original.title == "vLLM Adoption by AI Providers"
    assert group.in_language("es").title == "Adopción de vLLM por Proveedores de IA"


def test_structure_needs_two_links_and_same_table_shapes():
    two = ("https://x.example/1", "https://x.example/2")
    notes = [
        note("a.md", "en", "a", links=two, shapes=((3, 5),)),
        note("b.md", "es", "b", links=two, shapes=((3, 5),)),  # same → merges with a
        note("c.md", "fr", "c", links=two, shapes=((3, 4),)),  # other table shape
        note("d.md", "de", "d", links=two[:1]),  # one link is not enough
        note("e.md", "ja", "e", links=two[:1]),
    ]
    assert by_key(group_translations(notes)) == {
        "a": [("en", "a.md"), ("es", "b.md")], "c": [("fr", "c.md")], "d": [("de", "d.md")], "e": [("ja", "e.md")]}


def test_same_language_never_merged():
    links = ("https://x.example/1", "https://x.example/2")
    notes = [
        note("notes/dup-en.md", "en", "dup"),
        note("archive/dup-en.md", "en", "dup"),  # same key, same language: first by path wins
        note("_posts/es/dup-es.md", "es", "dup"),
        note("one.md", "en", "one", links=links),
        note("two.md", "en", "two", links=links),  # same structure, same language: not merged
    ]
    groups = group_translations(notes)
    assert by_key(groups) == {
        "dup": [("en", "archive/dup-en.md"), ("es", "_posts/es/dup-es.md")],
        "dup~2": [("en", "notes/dup-en.md")],
        "one": [("en", "one.md")],
        "two": [("en", "two.md")],
    }
    for group in groups:
        langs = [n.lang for n in group.notes]
        assert len(langs) == len(set(langs))


def test_structure_fills_the_group_missing_that_language():
    # A file-key group already has en+es; a stray es copy of the same text must not join it,
    # but may join the stray en copy.
    links = ("https://x.example/1", "https://x.example/2")
    notes = [
        note("a/vllm-en.md", "en", "vllm", links=links),
        note("a/vllm-es.md", "es", "vllm", links=links),
        note("b/000.md", "en", "000", links=links),
        note("b/002.md", "es", "002", links=links),
    ]
    assert by_key(group_translations(notes)) == {
        "000": [("en", "b/000.md"), ("es", "b/002.md")],
        "vllm": [("en", "a/vllm-en.md"), ("es", "a/vllm-es.md")],
    }


def test_group_key_is_the_original_note_key():
    links = ("https://x.example/1", "https://x.example/2")
    notes = [
        note("en-copy.md", "en", "en-copy", {"translated": True}, links=links),
        note("orig-zh.md", "zh", "orig", {"translated": False}, links=links),
    ]
    (group,) = group_translations(notes)
    assert group.key == "orig" and group.original.lang == "zh"


def test_deterministic_regardless_of_input_order():
    links = ("https://x.example/1", "https://x.example/2")
    notes = [note(f"n{i}-{lang}.md", lang, f"n{i}", links=links if i == 3 else ())
             for i in range(5) for lang in ("en", "es", "ja")]
    forward = group_translations(notes)
    backward = group_translations(list(reversed(notes)))
    assert forward == backward
    assert [g.key for g in forward] == ["n0", "n1", "n2", "n3", "n4"]


def test_many_notes_scale():
    notes = [note(f"k{i}-{lang}.md", lang, f"k{i}", links=(f"https://s/{i}", f"https://t/{i}"))
             for i in range(20000) for lang in ("en", "es")]
    boiler = ("https://footer/a", "https://footer/b")  # one signature shared by thousands
    notes += [note(f"b{i}.md", "en", f"b{i}", links=boiler) for i in range(5000)]
    groups = group_translations(notes)  # hash-based: a pairwise comparison would not finish
    assert len(groups) == 25000
