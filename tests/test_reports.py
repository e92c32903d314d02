"""The reports as data (grouping, statistics), the PNG chart, and `python -m bot report`."""
from __future__ import annotations

import datetime as dt
import io
import json
import struct
import zlib

import pytest

from bot.cli.main import main
from bot.cli.report import report
from bot.journal import reports
from bot.journal.chart import ANSWERED, BACKGROUND, UNANSWERED, bar_chart
from bot.journal.store import DAY, Asked, Journal, JournalRow
from knowledge.indexing import build_engine

NOW = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC).timestamp()


def row(id: int, question: str | None, answered: bool = False, *, when: float = NOW, up: int = 0, down: int = 0,
        lang: str = "en", path: str | None = None, title: str | None = None, via: str = "slash",
        not_sure: bool = False) -> JournalRow:
    return JournalRow(id, when, 1, via, "text", question, lang, answered, path, title,
                      lang if answered or not_sure else None, up, down, not_sure)


# --------------------------------------------------------------------------- grouping


def test_similar_wordings_group_together_and_different_questions_do_not():
    texts = ["How do I install Docker?", "how to install docker", "What is vLLM?", "How do I install docker?",
             "what is vllm", "Does DeepSeek use vLLM?", "How do I install docker on Windows?"]
    groups = [[texts[i] for i in members] for members in reports.group_similar(texts)]
    assert groups[0] == ["How do I install Docker?", "how to install docker", "How do I install docker?",
                         "How do I install docker on Windows?"]
    assert ["What is vLLM?", "what is vllm"] in groups
    assert ["Does DeepSeek use vLLM?"] in groups
    assert sorted(i for g in reports.group_similar(texts) for i in g) == list(range(len(texts)))  # each once


def test_one_word_does_not_swallow_every_question_that_contains_it():
    # token_set_ratio alone scores these 100 (one's words are a subset of the other's).
    groups = reports.group_similar(["docker", "How do I install docker on a Raspberry Pi with little memory?"])
    assert len(groups) == 2


def test_grouping_edge_cases():
    assert reports.group_similar([]) == []
    assert reports.group_similar(["", "", "?"]) == [[0, 1], [2]]  # identical texts always share a group
    assert reports.group_similar(["如何安装 docker", "如何安装 docker"]) == [[0, 1]]


def test_unanswered_groups_count_unanswered_and_down_voted_and_skip_the_rest():
    rows = [
        row(1, "What is the capital of Mongolia?"), row(2, "what is the capital of mongolia"),
        row(3, "Capital of Mongolia?", lang="es"),
        row(4, "Does DeepSeek use vLLM?", answered=True, down=2, up=1, title="vLLM Adoption"),
        row(5, "Does DeepSeek use vLLM?", answered=True, up=3),  # helped: not listed
        row(6, None),  # text past retention: nothing to show
    ]
    groups = reports.unanswered_groups(rows)
    assert [(g.count, g.unanswered, g.downvoted) for g in groups] == [(3, 3, 0), (1, 0, 1)]
    assert groups[0].examples[0] == "What is the capital of Mongolia?" and len(groups[0].examples) == 3
    assert groups[0].languages == ("en", "es")
    assert groups[1].notes == ("vLLM Adoption",)


def test_not_sure_replies_are_grouped_apart_with_the_notes_they_offered():
    rows = [
        row(1, "What is the capital of Mongolia?"),
        row(2, "Is DeepSeek on vLLM?", not_sure=True, path="v.md", title="vLLM Adoption"),
        row(3, "is deepseek on vllm", not_sure=True, path="v.md", title="vLLM Adoption", down=1),
        row(4, "Tallest mountain?", not_sure=True, path="m.md", title="Mountains", up=1),
    ]
    unanswered, not_sure = reports.unanswered_groups(rows), reports.not_sure_groups(rows)
    assert [(g.count, g.unanswered, g.not_sure) for g in unanswered] == [(1, 1, 0)]  # only the "I don't know"
    assert [(g.count, g.unanswered, g.not_sure, g.downvoted) for g in not_sure] == [(2, 0, 2, 1), (1, 0, 1, 0)]
    assert not_sure[0].notes == ("vLLM Adoption",) and not_sure[1].notes == ("Mountains",)
    text = reports.unanswered_text(unanswered, 7, not_sure)
    assert text.index("Unanswered or down-voted") < text.index("Not sure (the closest passage offered)")
    assert "closest offered: vLLM Adoption" in text and "“Tallest mountain?”" in text
    assert reports.unanswered_json(unanswered, 7, not_sure)["not_sure"][0]["count"] == 2
    stats = reports.stats(rows, NOW, 1)
    assert (stats.asked, stats.answered, stats.not_sure) == (4, 0, 3)
    assert "0 answered (0%), 3 not sure" in reports.stats_text(stats, 1)


# --------------------------------------------------------------------------- statistics


def test_stats_per_day_answer_rate_languages_and_top_notes():
    rows = [
        row(1, "a", True, when=NOW, path="a.md", title="A", up=1), row(2, "b", True, when=NOW, path="a.md", title="A"),
        row(3, "c", False, when=NOW - DAY, lang="es"), row(4, "d", True, when=NOW - 2 * DAY, path="b.md", title="B",
                                                           down=1),
        row(5, "old", True, when=NOW - 9 * DAY, path="c.md", title="C"),  # outside the 7 days
    ]
    stats = reports.stats(rows, NOW, 7)
    assert [d.day for d in stats.days] == [f"2026-11-{d}" for d in (29, 30)] + [f"2026-12-0{d}" for d in range(1, 6)]
    assert [(d.asked, d.answered) for d in stats.days] == [(0, 0)] * 4 + [(1, 1), (1, 0), (2, 2)]
    assert (stats.asked, stats.answered, stats.up, stats.down) == (4, 3, 1, 1)
    assert stats.answer_rate == 0.75
    assert stats.languages == (("en", 3), ("es", 1))
    assert [(n.path, n.answers, n.up, n.down) for n in stats.top_notes] == [("a.md", 2, 1, 0), ("b.md", 1, 0, 1)]
    assert reports.period_start(NOW, 1) == dt.datetime(2026, 12, 5, tzinfo=dt.UTC).timestamp()


# --------------------------------------------------------------------------- the chart


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """A minimal PNG reader for what bar_chart writes (8-bit RGB, filter 0), checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    rows = [raw[y * stride + 1 : (y + 1) * stride] for y in range(height)]
    assert all(raw[y * stride] == 0 for y in range(height))
    return width, height, rows


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, ...]:
    return tuple(rows[y][3 * x : 3 * x + 3])


def test_bar_chart_draws_stacked_bars_scaled_to_the_busiest_day():
    data = bar_chart([(4, 3), (0, 0), (2, 0)], height=108, bar=10, gap=2, margin=4)
    width, height, rows = decode_png(data)
    assert (width, height) == (4 + 3 * 10 + 2 * 2 + 4, 108)
    baseline = height - 4  # plot height 100: 25 px per question on the busiest day
    first, second, third = 4 + 5, 4 + 12 + 5, 4 + 24 + 5
    assert pixel(rows, first, baseline - 1) == ANSWERED and pixel(rows, first, baseline - 75) == ANSWERED
    assert pixel(rows, first, baseline - 76) == UNANSWERED and pixel(rows, first, baseline - 100) == UNANSWERED
    assert pixel(rows, second, baseline - 1) == BACKGROUND  # no questions that day
    assert pixel(rows, third, baseline - 50) == UNANSWERED and pixel(rows, third, baseline - 51) == BACKGROUND
    with pytest.raises(ValueError):
        bar_chart([])


# --------------------------------------------------------------------------- python -m bot report


def write_config(tmp_path) -> str:
    config = tmp_path / "config.yaml"
    config.write_text(f"discord:\n  data_dir: {tmp_path / 'state'}\n", encoding="utf-8")
    return str(config)


def fill_journal(tmp_path, now: float) -> None:
    journal = Journal.open(tmp_path / "state" / "journal.sqlite3", clock=lambda: now)
    for i, question in enumerate(["What is the capital of Mongolia?", "capital of Mongolia", "Tallest mountain?"]):
        journal.record(Asked(i + 1, now - 60, "slash", "text", question, "en", False))
    journal.record(Asked(9, now - DAY, "mention", "text", "Does DeepSeek use vLLM?", "en", True,
                         source_path="notes/vllm.md", source_title="vLLM Adoption", answer_lang="en"))
    journal.vote(9, 1234, -1).result()
    journal.close()


def test_report_from_the_command_line_as_text_and_json(tmp_path, capsys):
    import time

    config = write_config(tmp_path)
    fill_journal(tmp_path, time.time())
    assert main(["report", "unanswered", "--config", config]) == 0
    text = capsys.readouterr().out
    assert "1. asked 2× (2 unanswered, 0 down-voted" in text and "“What is the capital of Mongolia?”" in text
    assert "answered from: vLLM Adoption" in text
    assert main(["report", "stats", "--days", "3", "--json", "--config", config]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["asked"], stats["answered"], stats["down"], stats["period_days"]) == (4, 1, 1, 3)
    assert len(stats["days"]) == 3 and stats["via"] == {"slash": 3, "mention": 1}
    assert stats["top_notes"][0]["title"] == "vLLM Adoption"
    assert main(["report", "stats", "--days", "1", "--config", config]) == 0
    assert "Last 1 days: 3 questions, 0 answered" in capsys.readouterr().out


def test_report_says_when_there_is_no_journal_and_rejects_bad_days(tmp_path, capsys):
    config = write_config(tmp_path)
    assert main(["report", "stats", "--config", config]) == 1
    assert "no journal at" in capsys.readouterr().err
    assert main(["report", "stats", "--json", "--config", config]) == 1
    printed = capsys.readouterr()
    assert json.loads(printed.out)["error"].startswith("no journal at") and printed.err == ""
    assert not (tmp_path / "state" / "journal.sqlite3").exists()  # a report never creates one
    with pytest.raises(SystemExit):
        main(["report", "stats", "--days", "0", "--config", config])
    assert "expected a number of days" in capsys.readouterr().err


def test_report_function_with_a_fixed_clock(tmp_path):
    from bot.config import load_config

    fill_journal(tmp_path, NOW)
    out, err = io.StringIO(), io.StringIO()
    assert report(load_config(write_config(tmp_path)), "unanswered", 7, True, out, err, now=NOW) == 0
    data = json.loads(out.getvalue())
    counts = [(g["count"], g["unanswered"], g["downvoted"]) for g in data["groups"]]
    assert counts[0] == (2, 2, 0) and sorted(counts[1:]) == [(1, 0, 1), (1, 1, 0)]  # biggest first


def reference_groups(texts: list[str], threshold: float = reports.SIMILARITY) -> list[list[int]]:
    """The definition, pair by pair in Python: what group_similar computes faster."""
    from collections import Counter

    from rapidfuzz import utils

    keys = [" ".join(utils.default_process(t).split()) or t for t in texts]
    counts = Counter(keys)
    wordings = sorted(counts, key=lambda w: (-counts[w], w))
    leaders: list[str] = []
    members: list[list[int]] = []
    for wording in wordings:
        scores = [reports.similarity(wording, leader) for leader in leaders]
        best = max(range(len(scores)), key=lambda g: (scores[g], -g), default=-1)
        if best < 0 or scores[best] < threshold:
            leaders.append(wording)
            members.append([])
            best = len(leaders) - 1
        members[best] += [i for i, key in enumerate(keys) if key == wording]
    return sorted((sorted(m) for m in members), key=lambda m: (-len(m), m[0]))


def test_group_similar_equals_its_pairwise_definition():
    import random

    from bot.config import BUNDLED_NOTES

    engine = build_engine([BUNDLED_NOTES])
    rng = random.Random(9)
    texts = [" ".join(p.text.split()[:8]) for note in engine.notes for p in note.passages if len(p.text) > 20][:150]
    for text in list(texts[:60]):  # reworded copies: dropped, swapped and repeated words
        words = text.split()
        rng.shuffle(words)
        texts.append(" ".join(words[: max(1, len(words) - rng.randint(0, 2))]))
    assert reports.group_similar(texts) == reference_groups(texts)
    assert any(len(group) > 1 for group in reports.group_similar(texts))  # the sample does form groups
