"""Names learned from the notes (knowledge.names) and Discord markup removed by the bot (bot.markup)."""
from __future__ import annotations

from pathlib import Path

from bot.discord_app.markup import without_discord_markup
from knowledge.engine import EngineOptions
from knowledge.indexing import build_engine
from knowledge.names import untranslated_names


def _note(folder: Path, name: str, lang: str, title: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"---\ntitle: {title}\nlang: {lang}\n---\n\n{body}\n", encoding="utf-8")


def test_words_a_translation_keeps_unchanged_are_learned_as_names(tmp_path: Path) -> None:
    _note(tmp_path / "notes", "kafka-lag-en.md", "en", "Consumer lag in Kafka",
          "Watch the lag of every consumer group with the Burrow dashboard.")
    _note(tmp_path / "_posts" / "zh", "kafka-lag-zh.md", "zh", "Kafka 消费者延迟",
          "用 Burrow 仪表盘观察每个 consumer group 的延迟。")
    _note(tmp_path / "_posts" / "es", "kafka-lag-es.md", "es", "Retraso de consumidores en Kafka",
          "Vigila el retraso de cada grupo de consumidores con el panel de Burrow.")
    _note(tmp_path / "notes", "alone-en.md", "en", "Zephyrine notes", "Zephyrine is only written in English.")
    names = untranslated_names(build_engine([tmp_path], EngineOptions(semantic=False)).groups)
    assert {"kafka", "burrow", "consumer", "group"} <= names  # kept in the Chinese text, or in two titles
    assert "zephyrine" not in names  # a note without translations teaches nothing
    assert "watch" not in names and "vigila" not in names  # translated words
    assert "de" not in names and "en" not in names  # stop words never are names


def test_the_engine_detects_the_language_around_learned_names(tmp_path: Path) -> None:
    _note(tmp_path / "notes", "kafka-lag-en.md", "en", "Consumer lag in Kafka", "Use Burrow to watch lag.")
    _note(tmp_path / "_posts" / "zh", "kafka-lag-zh.md", "zh", "Kafka 消费者延迟", "用 Burrow 观察延迟。")
    engine = build_engine([tmp_path], EngineOptions(semantic=False))
    assert engine.ask("burrow kafka usa").language == "es"  # only "usa" is a word of a language


def test_discord_markup_is_removed_before_the_engine_sees_a_question() -> None:
    text = "<@123> <@!45> <@&6> <#789> <:blob:111> <a:dance:222> <t:1700000000:R> @everyone ¿usa vLLM?"
    assert without_discord_markup(text) == "¿usa vLLM?"
    assert without_discord_markup("a < b and c > d, mail me@example.com") == "a < b and c > d, mail me@example.com"
