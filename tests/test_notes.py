"""load_notes / load_note: metadata, language, keys, and every kind of broken file as a problem."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import knowledge.notes as notes_mod
from knowledge.indexing.grouping import group_translations
from knowledge.model import LoadProblem, Note
from knowledge.notes import load_note, load_notes, note_key

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "blog"

GOOD = "---\ntitle: Good note\nlang: en\n---\n\nA fine paragraph about Kafka.\n"


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def only_problem(result, name: str) -> LoadProblem:
    found = [p for p in result.problems if Path(p.path).name == name]
    assert len(found) == 1, result.problems
    return found[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "notes"
    write(root / "good-en.md", GOOD)
    return root


def assert_good_still_loads(result) -> None:
    assert [n.rel_path for n in result.notes if n.rel_path == "good-en.md"] == ["good-en.md"]


# ---------------------------------------------------------------- metadata
def test_metadata_title_lang_date_key_hash(tmp_path: Path):
    root = tmp_path / "blog"
    data = "---\ntitle: Kafka Basics\nlang: es-ES\ndate: 2025-02-27 10:00:00 +08:00\ntags: [a, b]\n" \
           "translated: true\n---\n# Heading\n\nTexto.\n"
    path = write(root / "_posts" / "es" / "2025-02-27-kafka-es.md", data)
    (note,) = load_notes([root]).notes
    assert note.title == "Kafka Basics"
    assert note.lang == "es"
    assert note.key == "kafka"
    assert note.date == "2025-02-27"
    assert note.rel_path == "_posts/es/2025-02-27-kafka-es.md"
    assert note.path == str(path.resolve())
    assert note.content_hash == hashlib.sha256(data.encode()).hexdigest()
    assert note.meta["tags"] == ["a", "b"] and note.meta["translated"] is True
    assert isinstance(note.meta["date"], str) and note.meta["date"].startswith("2025-02-27T")
    assert [p.line for p in note.passages] == [8, 10]  # file lines: the 7 front matter lines count


def test_fallbacks_title_from_heading_then_file_name_and_date_from_prefix(tmp_path: Path):
    root = tmp_path / "blog"
    write(root / "2024-12-24-lag-en.md", "Intro text.\n\n## Why phones slow down\n\nBecause.\n")
    write(root / "plain-note.markdown", "Just some words here, nothing else.\n")
    first, second = load_notes([root]).notes
    assert (first.title, first.date, first.key, first.lang) == ("Why phones slow down", "2024-12-24", "lag", "en")
    assert (second.title, second.date, second.key) == ("plain-note", None, "plain-note")


@pytest.mark.parametrize(
    ("rel", "front", "expected"),
    [
        ("a-zh.md", "", "zh"),
        ("a-hant.md", "", "zh-hant"),
        ("a-ja.md", "", "ja"),
        ("a-cn.md", "", "zh"),
        ("_posts/fr/a.md", "", "fr"),
        ("_posts/de/sub/a.md", "", "de"),
        ("_posts/de/a-es.md", "", "es"),  # the file suffix beats the folder
        ("_posts/de/a-es.md", "lang: ja\n", "ja"),  # front matter beats both
    ],
)
def test_language_from_front_matter_suffix_or_folder(tmp_path: Path, rel: str, front: str, expected: str):
    text = (f"---\n{front}---\n" if front else "") + "Some body text here.\n"
    write(tmp_path / "root" / rel, text)
    (note,) = load_notes([tmp_path / "root"]).notes
    assert note.lang == expected


def test_language_detected_from_text_when_nothing_else_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[str, object]] = []

    def fake_detect(text: str, hint: str | None = None) -> str:
        calls.append((text, hint))
        return "fr"

    monkeypatch.setattr(notes_mod, "_detector", fake_detect)
    write(tmp_path / "root" / "bonjour.md", "Bonjour tout le monde, voici une note.\n")
    (note,) = load_notes([tmp_path / "root"]).notes
    assert note.lang == "fr"
    assert calls and "Bonjour tout le monde" in calls[0][0]


def test_real_detector_is_wired(tmp_path: Path):
    pytest.importorskip("knowledge.detect")
    write(tmp_path / "root" / "nihao.md", "这是一篇关于卡夫卡消息队列的中文笔记，介绍主题和分区。\n")
    (note,) = load_notes([tmp_path / "root"]).notes
    assert note.lang == "zh"


def test_note_key_matches_eval_rule():
    assert note_key("notes/2025-02-27-kafka-en.md") == "kafka"
    assert note_key("_posts/es/2025-02-27-kafka-es.md") == "kafka"
    assert note_key("x/2025-02-10-x64-assembly-conv.md") == "x64-assembly-conv"
    assert note_key("a/foo-hant.markdown") == "foo"
    assert note_key("000_3afbcac0d9830f26.md") == "000_3afbcac0d9830f26"


def test_bom_and_crlf_are_fine(folder: Path):
    write(folder / "bom-en.md", b"\xef\xbb\xbf---\r\ntitle: Bom\r\n---\r\n\r\nBody text.\r\n")
    result = load_notes([folder])
    assert result.problems == ()
    bom = next(n for n in result.notes if n.key == "bom")
    assert bom.title == "Bom" and bom.passages[0].text == "Body text." and bom.passages[0].line == 5


def test_sorted_deterministic_order(tmp_path: Path):
    root = tmp_path / "root"
    for name in ("b/z-en.md", "a-en.md", "b/a-en.md", "c.markdown"):
        write(root / name, "Text body.\n")
    write(root / "skip.txt", "not a note")
    assert [n.rel_path for n in load_notes([root]).notes] == ["a-en.md", "c.markdown", "b/a-en.md", "b/z-en.md"]


# ---------------------------------------------------------------- broken notes
def test_invalid_yaml_reports_file_line(folder: Path):
    write(folder / "bad-yaml.md", "---\ntitle: ok\nlang: en\ntags: [a, b\nother: x\n---\nBody.\n")
    result = load_notes([folder])
    problem = only_problem(result, "bad-yaml.md")
    assert "YAML" in problem.message
    assert problem.line == 5  # libyaml notices the unclosed list on the next line
    assert_good_still_loads(result)


def test_invalid_yaml_line_counts_leading_blank_lines(folder: Path):
    write(folder / "bad-yaml2.md", "\n\n---\ntitle: a: b\n---\nBody.\n")
    problem = only_problem(load_notes([folder]), "bad-yaml2.md")
    assert problem.line == 4


def test_unterminated_front_matter(folder: Path):
    write(folder / "open.md", "---\ntitle: never closed\n\nBody text.\n")
    result = load_notes([folder])
    problem = only_problem(result, "open.md")
    assert "closing" in problem.message and problem.line == 1
    assert_good_still_loads(result)


def test_front_matter_not_a_mapping(folder: Path):
    write(folder / "list.md", "---\n- a\n- b\n---\nBody text.\n")
    result = load_notes([folder])
    problem = only_problem(result, "list.md")
    assert "mapping" in problem.message and problem.line == 1
    assert_good_still_loads(result)


def test_not_utf8_reports_line_of_first_bad_byte(folder: Path):
    write(folder / "latin1.md", "---\ntitle: x\n---\nline four\ncaf\xe9 line five\n".encode("latin-1"))
    result = load_notes([folder])
    problem = only_problem(result, "latin1.md")
    assert "UTF-8" in problem.message and problem.line == 5
    assert_good_still_loads(result)


def test_binary_file(folder: Path):
    write(folder / "image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
    result = load_notes([folder])
    assert "binary" in only_problem(result, "image.md").message
    assert_good_still_loads(result)


@pytest.mark.parametrize(("content", "word"), [(b"", "empty file"), (b"  \n\n", "empty file"),
                                                 (b"---\ntitle: only\n---\n\n", "empty body")])
def test_empty_file_or_body(folder: Path, content: bytes, word: str):
    write(folder / "empty.md", content)
    result = load_notes([folder])
    assert word in only_problem(result, "empty.md").message
    assert_good_still_loads(result)


def test_huge_file_is_not_read(folder: Path, monkeypatch: pytest.MonkeyPatch):
    write(folder / "huge.md", "word " * 1000)
    opened: list[str] = []
    real_open = open

    def spy_open(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(notes_mod, "open", spy_open, raising=False)
    result = load_notes([folder], max_bytes=1000)
    assert "larger than 1000 bytes" in only_problem(result, "huge.md").message
    assert not any(p.endswith("huge.md") for p in opened)
    assert_good_still_loads(result)


def test_unreadable_file(folder: Path, monkeypatch: pytest.MonkeyPatch):
    locked = write(folder / "locked.md", GOOD)
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # running as root: permissions don't stop reads, so simulate
        real_open = open

        def deny(path, *args, **kwargs):
            if os.fspath(path).endswith("locked.md"):
                raise PermissionError(13, "Permission denied")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(notes_mod, "open", deny, raising=False)
    try:
        result = load_notes([folder])
    finally:
        locked.chmod(0o644)
    assert "unreadable" in only_problem(result, "locked.md").message
    assert_good_still_loads(result)


def test_missing_folder_is_a_problem_and_other_folders_load(folder: Path, tmp_path: Path):
    result = load_notes([tmp_path / "nope", folder])
    assert [p.message for p in result.problems] == ["notes folder not found"]
    assert result.problems[0].path.endswith("nope")
    assert_good_still_loads(result)


def test_load_note_single_file(folder: Path):
    note = load_note(folder / "good-en.md", folder)
    assert isinstance(note, Note) and note.rel_path == "good-en.md" and note.title == "Good note"
    write(folder / "bad.md", "---\n[x\n---\nBody\n")
    problem = load_note(folder / "bad.md", folder)
    assert isinstance(problem, LoadProblem) and problem.line == 2  # where the unclosed bracket opens


# ---------------------------------------------------------------- symlinks
def test_symlink_outside_is_skipped_inside_is_followed_once(folder: Path, tmp_path: Path):
    outside = write(tmp_path / "elsewhere" / "secret-en.md", GOOD)
    (folder / "leak-en.md").symlink_to(outside)
    (folder / "leakdir").symlink_to(outside.parent, target_is_directory=True)
    (folder / "alias-en.md").symlink_to(folder / "good-en.md")  # same real file: loads once
    write(folder / "sub" / "inner-en.md", GOOD)
    (folder / "again").symlink_to(folder / "sub", target_is_directory=True)
    result = load_notes([folder])
    assert sorted(n.rel_path for n in result.notes) == ["good-en.md", "sub/inner-en.md"]
    outside_problems = sorted(Path(p.path).name for p in result.problems)
    assert outside_problems == ["leak-en.md", "leakdir"]
    assert all(p.message == "skipped: symlink leads outside the notes folders" for p in result.problems)


def test_symlink_into_another_notes_folder_is_allowed(tmp_path: Path):
    a = write(tmp_path / "a" / "one-en.md", GOOD).parent
    b = write(tmp_path / "b" / "two-en.md", GOOD).parent
    (a / "link").symlink_to(b, target_is_directory=True)
    result = load_notes([a, b])
    assert result.problems == ()
    assert sorted(n.rel_path for n in result.notes) == ["one-en.md", "two-en.md"]  # b's file once, by its real path


def test_symlink_loop_does_not_hang(folder: Path):
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    (folder / "sub" / "self").symlink_to(folder / "sub", target_is_directory=True)
    (folder / "ring-a.md").symlink_to(folder / "ring-b.md")
    (folder / "ring-b.md").symlink_to(folder / "ring-a.md")
    result = load_notes([folder])
    assert [n.rel_path for n in result.notes] == ["good-en.md"]
    assert {Path(p.path).name for p in result.problems} == {"ring-a.md", "ring-b.md"}


# ---------------------------------------------------------------- the shared corpus
def test_shared_corpus_loads_without_problems():
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".md", ".markdown"))
    result = load_notes([CORPUS])
    assert result.problems == ()
    assert len(result.notes) == len(files)
    assert all(n.title and n.passages for n in result.notes)
    for note in result.notes:
        folder = note.rel_path.split("/")[1] if note.rel_path.startswith("_posts/") else "en"
        assert note.lang == folder, note.rel_path
    kafka = next(g for g in group_translations(result.notes) if g.key == "kafka")
    assert {"en", "es", "zh", "ja", "fr"} <= {n.lang for n in kafka.notes}
    assert kafka.original.lang == "en"
