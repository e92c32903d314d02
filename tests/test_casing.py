"""Questions typed in lower case are read with the notes' own case for their names."""
from __future__ import annotations

from pathlib import Path

from knowledge.casing import learn_casing
from knowledge.indexing import build_engine
from knowledge.model import Note, NoteGroup, Passage

BUNDLED = Path(__file__).resolve().parents[1] / "bot" / "notes"


def _group(key: str, lang: str, *texts: str) -> NoteGroup:
    passages = tuple(Passage("paragraph", text) for text in texts)
    return NoteGroup(key, (Note(f"/n/{key}-{lang}.md", f"{key}-{lang}.md", key, lang, key, passages),))


def test_names_written_with_capitals_inside_sentences_are_learned() -> None:
    casing = learn_casing([
        _group("serving", "en", "Most providers serve models with vLLM today.", "We asked whether DeepSeek uses vLLM."),
        _group("queues", "en", "Messages stay in Kafka for a week.", "A consumer of Kafka reads them in order."),
        _group("gardens", "en", "Water the beds at dawn.", "Water them again at dusk, water is cheap."),
    ])
    assert casing.apply("does deepseek use vllm?") == "does DeepSeek use vLLM?"
    assert casing.apply("how long does kafka keep messages") == "how long does Kafka keep messages"
    # "Water" only ever starts a sentence: a capital there says nothing.
    assert casing.apply("how often should i water the beds") == "how often should i water the beds"


def test_a_word_the_asker_capitalised_stays_as_written() -> None:
    casing = learn_casing([_group("serving", "en", "Providers use vLLM.", "Others use vLLM too.")])
    assert casing.apply("Does VLLM scale?") == "Does VLLM scale?"


def test_a_word_mostly_written_in_lower_case_is_not_a_name() -> None:
    casing = learn_casing([_group("a", "en", "We use Docker here.", "docker runs it.", "docker builds it.",
                                  "then docker stops it.", "and docker restarts it.")])
    assert casing.apply("what does docker do") == "what does docker do"


def test_german_nouns_teach_nothing() -> None:
    casing = learn_casing([_group("haus", "de", "Das ist ein Haus mit einem Garten.", "Im Garten steht ein Haus.")])
    assert casing.forms == {}



def test_a_question_in_lower_case_is_answered_as_the_same_question_with_capitals() -> None:
    seeds = build_engine([BUNDLED])
    # Read as the notes write it, the lower-case question is the same question to the encoder and the gate.
    lower, capitals = seeds.ask("does deepseek use vllm"), seeds.ask("does DeepSeek use vLLM")
    assert lower.answered and lower.text.startswith("Yes")
    assert (lower.sources[:1], lower.text, lower.score) == (capitals.sources[:1], capitals.text, capitals.score)


def test_neither_a_sentence_start_nor_code_counts_against_a_name() -> None:
    casing = learn_casing([_group("mistral", "en", "We embed texts with Mistral here.", "Mistral hosts the model.",
                                  "Mistral bills per token.", "Run `gradle build` first.", "Then `gradle test`.",
                                  "Gradle caches them.", "We build with Gradle daily.",
                                  "With Gradle and Mistral both, it works.")])
    # Capitals at a sentence's start say nothing either way; a command in code is cased for the shell.
    assert casing.apply("does mistral run on gradle") == "does Mistral run on Gradle"


def test_a_word_no_note_has_is_a_name_when_the_question_shows_no_capitals() -> None:
    seeds = build_engine([BUNDLED])
    # Typed with a capital, "Groqly" is a name the notes never mention: a near miss, not an answer.
    # Typed all in lower case it tells nothing by its case, and is read the same way.
    for question in ("does Groqly serve its models with vLLM", "does groqly serve its models with vllm"):
        answer = seeds.ask(question)
        assert not answer.answered, question
        assert "groqly" in {unit.word for unit in seeds.searched(question, None)[1].units if unit.name}


def test_a_name_never_written_in_lower_case_counts_its_capitals_at_sentence_starts() -> None:
    casing = learn_casing([_group("paths", "en", "Dijkstra's algorithm finds shortest paths.",
                                  "Dijkstra published it in 1959.", "The idea is from Dijkstra.",
                                  "Water flows. Water is cheap, and we water the beds with water.")])
    assert casing.apply("who is dijkstra") == "who is Dijkstra"
    assert casing.apply("water the beds") == "water the beds"  # written in lower case too: no name


def test_each_part_of_a_hyphenated_word_takes_its_form() -> None:
    casing = learn_casing([_group("cells", "en", "An LSTM cell has gates.", "Each LSTM unit keeps a state.")])
    assert casing.apply("wie viele tore hat eine lstm-zelle") == "wie viele tore hat eine LSTM-zelle"
