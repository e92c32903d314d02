"""Ranking rules that keep look-alike notes from crowding out the note that answers."""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import Engine, EngineOptions
from knowledge.indexing import build_engine
from knowledge.search import search
from knowledge.text import name_terms, terms


def _note(folder: Path, name: str, title: str, lang: str, body: str) -> None:
    (folder / name).write_text(f"---\ntitle: {title}\nlang: {lang}\n---\n\n{body}\n", encoding="utf-8")


def _among_garden_notes(folder: Path, *notes: tuple[str, str, str]) -> Engine:
    """English notes (file, title, body) in a blog of 30 others, so that their words are rare; word search only."""
    for name, title, body in notes:
        _note(folder, name, title, "en", body)
    for i in range(30):
        _note(folder, f"other{i}-en.md", f"Garden {i}", "en", f"Bed {i} needs water and sun.")
    return build_engine([folder], EngineOptions(semantic=False))


def test_a_title_counts_once_not_once_per_passage(tmp_path: Path) -> None:
    # Two notes whose titles name the topic and whose text says nothing about it: the longer
    # one must not rank higher for having more passages under that title.
    _note(tmp_path, "long-de.md", "Pomodoro Tipps", "de",
          "\n\n".join(f"Absatz {i} über Kaffee am Morgen." for i in range(8)))
    _note(tmp_path, "short-de.md", "Pomodoro Fragen", "de", "Ein Absatz über Tee am Abend.")
    _note(tmp_path, "timer-de.md", "Uhren", "de", "Ein Pomodoro dauert 25 Minuten.")
    for i in range(30):  # a blog around them, so that the title word is rare
        _note(tmp_path, f"other{i}-de.md", f"Garten {i}", "de", f"Beet {i} braucht Wasser und Sonne.")
    engine = build_engine([tmp_path])
    hits = {engine.index.note_of(hit.passage).rel_path: hit.score for hit in search(engine.index, "Pomodoro?",
                                                                                    "de").hits}
    assert hits.get("long-de.md", 0) > 0, hits
    assert abs(hits["long-de.md"] - hits["short-de.md"]) < 1e-6


def test_a_cjk_pair_between_two_found_pairs_counts_as_found(tmp_path: Path) -> None:
    # "存输" straddles 保存|输出; another note happens to contain it, so the index knows the pair.
    _note(tmp_path, "save-zh.md", "选项", "zh", "用 -o 选项可以把输出保存到文件。")
    _note(tmp_path, "noise-zh.md", "杂项", "zh", "库存输入表格。")
    for i in range(30):  # a blog around them, so that these pairs are rare
        _note(tmp_path, f"other{i}-zh.md", f"花园 {i}", "zh", f"花园 {i} 需要阳光和水。")
    engine = build_engine([tmp_path])
    result = search(engine.index, "保存输出", "zh")
    best = result.best
    assert best is not None and engine.index.note_of(best.passage).rel_path == "save-zh.md"
    assert best.coverage == 1.0


def test_the_word_search_leader_is_the_note_that_covers_the_question(tmp_path: Path) -> None:
    # A page titled with two of the words outscores on title and repetition alone; the note that has
    # every word of the question leads the word search once coverage counts, so the word search's
    # confidence is that note's (it was read off the other ordering and counted as 0).
    _note(tmp_path, "pump-en.md", "Pump pressure", "en",
          "\n\n".join(f"The pump pressure gauge {i} reads high." for i in range(6)))
    _note(tmp_path, "valves-en.md", "Valves", "en", "A relief valve opens when the pump pressure passes four bar.")
    for i in range(30):  # a blog around them, where "pump" and "pressure" are common and "relief" is rare
        tail = "; the pump keeps the pressure." if i % 3 == 0 else "."
        _note(tmp_path, f"other{i}-en.md", f"Garden {i}", "en", f"Bed {i} needs water and sun{tail}")
    engine = build_engine([tmp_path], EngineOptions(semantic=False))
    result = search(engine.index, "pump pressure relief", "en")
    best = result.best
    assert best is not None and engine.index.note_of(best.passage).rel_path == "valves-en.md"
    assert result.evidence is not None
    assert result.evidence.lexical_first == 1.0 and result.evidence.lexical_confidence > 0


@pytest.mark.parametrize("text, term", [
    ("TCP's sliding window", "tcp"),  # a possessive keeps its word, not the "s"
    ("Karpathy’s repo", "karpathy"),
    ("l'homme", "homme"),  # an elided article gives way to its noun
    ("dell'algoritmo", "algoritmo"),
])
def test_the_word_an_apostrophe_hangs_on_is_the_term(text: str, term: str) -> None:
    assert term in terms(text)


@pytest.mark.parametrize("question, language, names", [
    ("Wie viele Tore hat eine LSTM-Zelle?", "de", {"lstm"}),  # a German noun after a hyphen is no name
    ("why avoid the S-shaped logistic curve", "en", set()),
    ("does GPT-4 use vLLM-based serving?", "en", {"gpt", "4", "vllm"}),
    ("Ha senso usare Redis qui?", "it", {"redis"}),  # "Ha": a verb at the start, not a name
])
def test_names_are_judged_part_by_part_of_a_hyphenated_word(question: str, language: str, names: set[str]) -> None:
    assert name_terms(question, language) == names


def test_a_hyphenated_word_keeps_the_part_a_stop_word_would_lose(tmp_path: Path) -> None:
    assert terms("fan-in", prefixes=False) == ["fan-in", "fan"]  # "in" alone is a stop word
    assert terms("real-time", prefixes=False) == ["real", "time"]  # parts that say it all: no whole
    engine = _among_garden_notes(tmp_path, ("fanout-en.md", "Fan-out", "Fan-out sends one request to many services."))
    about_it = search(engine.index, "what is fan-out?", "en")
    near_miss = search(engine.index, "what is fan-in?", "en")
    assert about_it.best is not None and about_it.best.coverage == 1.0
    assert near_miss.best is not None and near_miss.best.coverage < 0.5  # "fan-in" is not in the note


def test_a_title_with_a_possessive_answers_for_its_name(tmp_path: Path) -> None:
    engine = _among_garden_notes(
        tmp_path,
        ("window-en.md", "Understanding TCP's Sliding Window",
         "In TCP's flow control the receiver advertises how many bytes it can still accept."),
        ("frames-en.md", "Sliding doors", "A sliding window frame runs on two rails."))
    result = search(engine.index, "how does the TCP sliding window work?", "en")
    assert result.best is not None and engine.index.note_of(result.best.passage).rel_path == "window-en.md"
    assert result.evidence is not None and result.evidence.missing_names == 0.0  # "TCP" is found


def test_c_plus_plus_and_c_sharp_are_words_of_their_own(tmp_path: Path) -> None:
    engine = _among_garden_notes(tmp_path, ("cpp-en.md", "Releases", "C++ was first released in 1985."),
                                 ("cs-en.md", "Versions", "C# was first released in 2000."))
    for question, note in (("when was C# first released?", "cs-en.md"), ("when was C++ first released?", "cpp-en.md")):
        result = search(engine.index, question, "en")
        assert result.best is not None and engine.index.note_of(result.best.passage).rel_path == note, question


def test_words_only_the_title_has_count_as_the_notes(tmp_path: Path) -> None:
    engine = _among_garden_notes(tmp_path, ("zebra-en.md", "Zebra daemon", "It listens on port 7007."),
                                 ("ports-en.md", "Ports", "The print server listens on port 631."))
    answer = engine.ask("which port does the zebra daemon listen on?")
    assert answer.answered and "7007" in answer.text
