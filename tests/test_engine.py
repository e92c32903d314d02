"""The engine end to end on the bundled seed notes and on small notes written per test."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge.answering import LONGEST_ANSWER_CHARS, MAX_ANSWER_CHARS
from knowledge.engine import Engine, EngineOptions
from knowledge.i18n import knowledge_catalog
from knowledge.indexing import build_engine
from knowledge.render import answer_json, render_text

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"


@pytest.fixture(scope="module")
def seeds() -> Engine:
    return build_engine([BUNDLED])


# The five providers of the seed note: (English question, Spanish question, verdict en, verdict es, a detail word)
PROVIDERS = [
    ("does Anthropic use vLLM for Claude?", "¿Anthropic usa vLLM para Claude?", "No", "No", "proprietary",
     "propietaria"),
    ("does OpenAI use vLLM?", "¿OpenAI usa vLLM?", "No", "No", "in-house", "personalizados"),
    ("does Minimax use vLLM in production?", "¿MiniMax usa vLLM en producción?", "No", "No", "MiniMax-M1",
     "MiniMax-M1"),
    ("does Kimi from Moonshot use vLLM?", "¿Kimi de Moonshot usa vLLM?", "No", "No", "Checkpoint-Engine",
     "Checkpoint-Engine"),
    ("does DeepSeek use vLLM?", "¿DeepSeek usa vLLM?", "Yes", "Sí", "open-sourced", "código abierto"),
]


@pytest.mark.parametrize("en_q, es_q, en_verdict, es_verdict, en_detail, es_detail", PROVIDERS)
def test_the_five_providers_in_english_and_spanish(
    seeds: Engine, en_q: str, es_q: str, en_verdict: str, es_verdict: str, en_detail: str, es_detail: str
) -> None:
    en = seeds.ask(en_q)
    assert en.answered and en.language == "en" and en.answer_language == "en"
    assert en.text.startswith(f"{en_verdict} — ") and en_detail in en.text
    assert en.sources[0].path.endswith("-en.md") and en.sources[0].title == "vLLM Adoption by AI Providers"

    es = seeds.ask(es_q)
    assert es.answered and es.language == "es" and es.answer_language == "es"
    assert es.text.startswith(f"{es_verdict} — ") and es_detail in es.text
    assert es.sources[0].path.endswith("-es.md") and es.sources[0].title == "Adopción de vLLM por Proveedores de IA"


def test_the_design_examples_word_for_word(seeds: Engine) -> None:
    assert seeds.ask("does DeepSeek use vLLM?").text.startswith(
        "Yes — DeepSeek has open-sourced a custom inference engine built directly on vLLM")
    assert seeds.ask("¿OpenAI usa vLLM?").text.startswith("No — OpenAI utiliza sistemas de servicio personalizados")


def test_a_value_question_gets_the_row_not_a_verdict(seeds: Engine) -> None:
    answer = seeds.ask("which models of DeepSeek run on the vLLM based engine?")
    assert answer.answered
    assert "V3" in answer.text and "R1" in answer.text
    assert not answer.text.startswith("Yes")


def test_a_language_without_translation_falls_back_to_english_with_a_notice(seeds: Engine) -> None:
    answer = seeds.ask("Est-ce que DeepSeek utilise vLLM ?")
    assert answer.answered and answer.language == "fr" and answer.answer_language == "en"
    assert answer.translated_elsewhere
    text = render_text(answer, knowledge_catalog())
    assert "Cette note n'existe pas en français" in text and "anglais" in text


def test_fallback_order_is_configurable(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    shutil.copytree(BUNDLED, notes)
    engine = build_engine([notes], EngineOptions(fallback_languages=("es",)))
    answer = engine.ask("Est-ce que DeepSeek utilise vLLM ?")
    assert answer.answered and answer.answer_language == "es" and answer.text.startswith("Sí")


@pytest.mark.parametrize("question", [
    "does Groq use vLLM?",
    "what is the capital of Australia?",
    "¿Cómo instalo Redis en Ubuntu?",
    "Kubernetes 的 Pod 是什么",
])
def test_i_dont_know_when_nothing_answers(seeds: Engine, question: str) -> None:
    answer = seeds.ask(question)
    assert not answer.answered and answer.text == "" and answer.sources == ()
    assert answer.answer_language == answer.language


def test_i_dont_know_says_what_the_table_covers_in_the_askers_language(seeds: Engine) -> None:
    answer = seeds.ask("¿Groq usa vLLM?")
    assert not answer.answered
    assert answer.suggestions == ("Adopción de vLLM por Proveedores de IA",)
    assert answer.absent == ("Groq",) and "DeepSeek AI" in answer.covered and len(answer.covered) == 5
    text = render_text(answer, knowledge_catalog())
    assert text.startswith("No lo sé") and "«Adopción de vLLM por Proveedores de IA» menciona" in text
    assert text.endswith("no dice nada sobre Groq.")


def test_i_dont_know_suggests_titles_when_no_table_says_what_is_covered(seeds: Engine) -> None:
    answer = seeds.ask("¿Cómo instalo Redis en Ubuntu?")
    assert not answer.answered and answer.covered == ()
    text = render_text(answer, knowledge_catalog())
    assert text.startswith("No lo sé") and ("¿Quisiste decir" in text) == bool(answer.suggestions)


@pytest.mark.parametrize("question", [
    "", "   ", "🙂🙂🙂", "\x00\x07\x1b[31m", "<@123456> @everyone", "**bold** `code` [x](http://y)",
    "vllm " * 5000, "DeepSeek 使用 vLLM 吗？ ¿sí?", None, "a", "?", "\u202e\u200bdeepseek",
])
def test_any_text_gets_an_answer_or_i_dont_know(seeds: Engine, question: object) -> None:
    answer = seeds.ask(question)  # type: ignore[arg-type]
    assert isinstance(answer.answered, bool)
    assert len(answer.text) <= LONGEST_ANSWER_CHARS  # whole sentences may run past MAX_ANSWER_CHARS
    json.dumps(answer_json(answer, knowledge_catalog()))


def test_control_characters_do_not_reach_the_search(seeds: Engine) -> None:
    # Discord's markup (mentions) is the bot's to remove (bot.markup, tested in test_names.py).
    answer = seeds.ask("does\x00 DeepSeek\u202e use\x07 vLLM?")
    assert answer.answered and answer.text.startswith("Yes")
    assert "\x00" not in answer.question and "\u202e" not in answer.question


def test_locale_decides_only_when_the_question_cannot_tell(seeds: Engine) -> None:
    assert seeds.ask("vLLM DeepSeek", locale="es-ES").language == "es"
    assert seeds.ask("does DeepSeek use vLLM?", locale="es-ES").language == "en"


def test_sources_link_when_base_url_is_set(tmp_path: Path) -> None:
    engine = build_engine([BUNDLED], EngineOptions(base_url="https://blog.example/"))
    source = engine.ask("does DeepSeek use vLLM?").sources[0]
    assert source.url == "https://blog.example/notes/vllm-adoption-ai-providers-en"


def test_json_matches_the_scorer_contract(seeds: Engine) -> None:
    obj = answer_json(seeds.ask("¿OpenAI usa vLLM?"), knowledge_catalog())
    assert {"question", "language", "answered", "answer", "answer_language", "sources"} <= set(obj)
    assert obj["sources"][0].keys() >= {"path", "title", "lang"}
    assert obj["language"] == "es" and obj["answer"].startswith("No")


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_answers_are_short_even_from_a_long_paragraph(tmp_path: Path) -> None:
    filler = " ".join(f"Sentence number {i} talks about nothing in particular." for i in range(200))
    _write(tmp_path, "long-en.md",
           f"---\ntitle: Long\nlang: en\n---\n\n{filler} The zebra protocol uses port 4242. {filler}\n")
    # What is checked is the answer's text, not the gate: the note's one sentence row is the start of the
    # filler, so the gate's confidence sits at the threshold (0.3999) and is set aside here.
    engine = build_engine([tmp_path], EngineOptions(min_confidence=0.0))
    answer = engine.ask("which port does the zebra protocol use?")
    assert answer.answered and "4242" in answer.text
    assert len(answer.text) <= MAX_ANSWER_CHARS < len(filler)


def test_a_broken_note_does_not_stop_the_others(tmp_path: Path) -> None:
    _write(tmp_path, "good-en.md", "---\ntitle: Good\nlang: en\n---\n\nThe walrus daemon listens on port 7007.\n")
    _write(tmp_path, "bad-en.md", "---\ntitle: [unclosed\nlang: en\n---\n\nbody\n")
    engine = build_engine([tmp_path])
    assert [p.path.endswith("bad-en.md") for p in engine.problems] == [True]
    assert engine.problems[0].line is not None
    assert "7007" in engine.ask("what port does the walrus daemon listen on?").text


def test_typos_and_accents_still_find_the_row(seeds: Engine) -> None:
    answer = seeds.ask("dose deepsek use vllm")
    assert answer.answered and "DeepSeek" in answer.text
    answer = seeds.ask("¿OPENAI USA VLLM EN PRODUCCION?")
    assert answer.answered and answer.text.startswith("No")


def test_suggest_never_fails_and_finds_titles_and_facts(seeds: Engine) -> None:
    assert len(seeds.suggest("")) >= 1
    assert set(seeds.suggest("Adop")) == {"vLLM Adoption by AI Providers", "Adopción de vLLM por Proveedores de IA"}
    assert seeds.suggest("xyz") == []  # nothing matches: no filler suggestions
    found = seeds.suggest("deeps")
    assert any("DeepSeek" in s for s in found) or any("vLLM" in s for s in found)
    assert all(len(s) <= 100 for s in seeds.suggest("x" * 500))
    assert len(seeds.suggest("vllm", limit=25)) <= 25


def test_show_in_another_language_gives_the_same_place_of_the_note(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "_posts" / "zh").mkdir(parents=True)
    (tmp_path / "notes" / "garden-en.md").write_text("""---
title: Looking after the garden
lang: en
---

## Watering

Water the roses every morning before the sun is high.

## Pruning

Cut the apple tree back in late winter, above an outward bud.
""", encoding="utf-8")
    (tmp_path / "_posts" / "zh" / "garden-zh.md").write_text("""---
title: 照料花园
lang: zh
---

## 浇水

每天早上在太阳升高之前给玫瑰浇水。

## 修剪

在冬末修剪苹果树，剪在朝外的芽上方。
""", encoding="utf-8")
    engine = build_engine([tmp_path])
    asked = engine.ask("什么时候修剪苹果树？")
    assert asked.answered and asked.answer_language == "zh" and "苹果树" in asked.text
    shown = engine.ask_in("什么时候修剪苹果树？", asked.sources[0].path, "en")
    assert shown is not None and shown.answer_language == "en" and shown.language == "en"
    assert shown.text.startswith("Cut the apple tree back in late winter")
    assert shown.sources[0].path.endswith("garden-en.md")
    assert engine.ask_in("什么时候修剪苹果树？", asked.sources[0].path, "fr") is None
