"""Property-based tests (hypothesis): no question and no note text can break the engine.

- Any Unicode question (empty, 10k characters, only emoji, control characters, markdown,
  Discord mentions, bidi overrides) gets an answer or a clear "I don't know", never an exception.
- Any note text (random front matter, unterminated tables and fences, deep nesting, binary
  bytes) loads or is reported as broken, and never stops the other notes from loading.
Bounded (a few hundred examples, no deadline) so the suite stays fast.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from functools import cache
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.engine import Engine, EngineOptions
from knowledge.i18n import knowledge_catalog
from knowledge.indexing import build_engine
from knowledge.model import Answer, LoadProblem, Note
from knowledge.notes import load_notes, parse_note
from knowledge.render import answer_json, render_text

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD_NOTE = """---
title: Sourdough starter
aliases: [levain care]
---

# Sourdough starter

Feed the starter equal weights of flour and water every day.

| flour | water |
| --- | --- |
| 50 g | 50 g |

```
feed(starter, flour=50, water=50)
```
"""


@cache
def engine() -> Engine:
    """The bundled notes plus one with a table, code and an alias (built once for every example)."""
    folder = Path(tempfile.mkdtemp(prefix="props-"))
    shutil.copytree(BUNDLED, folder / "bundled")
    (folder / "sourdough-en.md").write_text(GOOD_NOTE, encoding="utf-8")
    return build_engine([folder], EngineOptions(workers=1))


# ---------------------------------------------------------------------------------------- questions

EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
BIDI = st.sampled_from(["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c"])
MARKUP = st.sampled_from(["**", "`", "```", "[x](http://x.example)", "> ", "# ", "||", "~~", "|", "\\", "<b>", "&amp;"])
MENTION = st.sampled_from(["@everyone", "@here", "<@123456789012345678>", "<@!1>", "<@&42>", "<#7>", "<:e:1>"])
WORDS = st.sampled_from(["does", "DeepSeek", "use", "vLLM", "¿", "?", "sourdough", "flour", "50", "ビール", "使用",
                         "المزود", "उपयोग", "Anbieter", "fournisseur"])
PIECE = st.one_of(st.text(max_size=30), EMOJI, CONTROL, BIDI, MARKUP, MENTION, WORDS, st.just(" "))

QUESTIONS = st.one_of(
    st.just(""),
    st.text(),  # any Unicode, surrogates excluded (a Python str from Discord never holds one alone)
    st.lists(PIECE, max_size=40).map("".join),
    st.text(EMOJI, min_size=1, max_size=50),
    st.text(CONTROL, min_size=1, max_size=50),
    st.integers(1, 10_000).flatmap(lambda n: st.sampled_from(["a", "vLLM ", "é", "字", "🙂",
                                                              "\u202e"]).map(lambda c: c * n)),
    st.text(min_size=1, max_size=60).map(lambda t: (t * (10_000 // len(t) + 1))[:10_000]),  # 10k characters
)


@SETTINGS
@given(question=QUESTIONS, locale=st.one_of(st.none(), st.sampled_from(["es-ES", "zh-TW", "ar", "xx", "", "ja"])))
def test_any_question_gets_an_answer_a_clear_not_sure_or_a_clear_i_dont_know(question: str, locale: str | None) -> None:
    answer = engine().ask(question, locale=locale)
    assert isinstance(answer, Answer) and answer.language
    catalog = knowledge_catalog()
    text = render_text(answer, catalog)
    json.dumps(answer_json(answer, catalog), ensure_ascii=False)
    if answer.answered:
        assert answer.text.strip() and answer.sources
    elif answer.closest is not None:  # not sure: the line that says so, then the passage offered
        assert text.startswith(catalog.text(answer.language, "answer.not_sure"))
        assert answer.closest.text.strip() and answer.closest.text in text and not answer.sources
    else:
        key = "answer.idk" if answer.question.strip() else "answer.empty"
        assert text.startswith(catalog.text(answer.language, key))
    assert isinstance(engine().suggest(question), list)  # autocomplete sees the same text as it is typed


# -------------------------------------------------------------------------------------------- notes

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                    st.dates().map(str), st.sampled_from(["2025-02-30", "en", "zz", "zh-TW", "", "---"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
KEYS = st.one_of(st.sampled_from(["title", "lang", "language", "date", "aliases", "questions", "permalink", "tags",
                                  "translation_key", "ref", "slug"]), st.text(max_size=10))


@st.composite
def front_matter(draw) -> str:
    kind = draw(st.sampled_from(["none", "yaml", "raw", "unterminated", "not a mapping"]))
    if kind == "none":
        return ""
    if kind == "yaml":
        meta = draw(st.dictionaries(KEYS, VALUES, max_size=6))
        return "---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n"
    if kind == "raw":
        return "---\n" + draw(st.text(max_size=80)) + "\n---\n"
    if kind == "unterminated":
        return "---\ntitle: " + draw(st.text(max_size=20)) + "\n"
    return "---\n- " + draw(st.text(max_size=20)) + "\n---\n"


BLOCKS = st.one_of(
    st.text(max_size=200),
    st.integers(1, 12).map(lambda n: "#" * n + " heading"),
    st.integers(1, 200).map(lambda n: "> " * n + "- " * n + "deep"),
    st.integers(1, 200).map(lambda n: "".join("  " * i + "- item\n" for i in range(n))),
    st.just("| a | b\n|---|\n| 1 | 2 | 3 | 4\n| unterminated"),
    st.just("| a | b |\n| --- | --- |\n" + "| x | y |\n" * 50),
    st.sampled_from(["```python\nnever closed", "~~~\n", "```\n```\n```", "    indented code", "<div>", "<!--", "[x]:",
                     "[link](", "![img](http://x.example/a.png)", "$$", "---", "***", "\t\t", "\r\n\r", "\ufeff"]),
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Cs"]), max_size=20),
)


@st.composite
def note_bytes(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))  # whatever a file holds: binary, NUL bytes, not UTF-8
    body = "\n\n".join(draw(st.lists(BLOCKS, max_size=8)))
    data = (draw(front_matter()) + body).encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # a few bytes that are not UTF-8
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(min_size=1, max_size=8)) + data[cut:]
    return data


@settings(max_examples=200, deadline=None)
@given(data=note_bytes())
def test_any_note_text_parses_or_is_reported(data: bytes) -> None:
    result = parse_note(data, "/notes/random-en.md", "random-en.md", "notes")
    assert isinstance(result, (Note, LoadProblem))
    if isinstance(result, LoadProblem):
        assert result.message and result.path == "/notes/random-en.md"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=note_bytes())
def test_a_random_note_never_breaks_the_load_of_the_others(data: bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="props-") as name:
        folder = Path(name)
        (folder / "sourdough-en.md").write_text(GOOD_NOTE, encoding="utf-8")
        random = folder / "random-en.md"
        random.write_bytes(data)
        loaded = load_notes([folder])
        assert [n.rel_path for n in loaded.notes if n.rel_path == "sourdough-en.md"] == ["sourdough-en.md"]
        loaded_paths = {n.path for n in loaded.notes}
        reported = {p.path for p in loaded.problems}
        assert (str(random) in loaded_paths) != (str(random) in reported)  # one or the other, never neither
        built = build_engine([folder], EngineOptions(workers=1))
        answer = built.ask("how much flour and water do I feed the sourdough starter?")
        assert answer.answered and any(s.path == "sourdough-en.md" for s in answer.sources), answer
