"""Language detection of short questions: script rules, Latin text with product names, the hint, garbage."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from knowledge.detect import (
    JAPANESE_KANJI,
    LANGUAGES,
    LATIN_CANDIDATES,
    SIMPLIFIED_CHARS,
    TRADITIONAL_CHARS,
    _is_tech_token,
    _latin_identifier,
    detect_language,
    detect_language_scored,
)

QUESTIONS = Path(__file__).parent / "data" / "language_questions.yaml"


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------- scripts


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("eclipse.iniの-vm引数は何を指定する？", "ja"),  # kanji + kana + Latin file name
        ("日本の名言", "ja"),  # one hiragana outweighs the Han characters
        ("KafkaとRabbitMQどっちがいい？", "ja"),
        ("設定を変更する", "ja"),  # 変 is a Japanese-only form even if the kana were missing
        ("設定変更", "ja"),
        ("DeepSeek-V3는 토큰 라우팅을 어떻게 하나요?", "ko"),
        ("vLLM이 뭐예요", "ko"),
        ("windows 查 mac 地址 命令", "zh"),
        ("Kafka 消费者", "zh"),
        ("这个问题怎么解决", "zh"),
        ("這個問題怎麼解決", "zh-hant"),
        ("Kafka 消費者怎麼設定", "zh-hant"),
        ("日本名言", "zh"),  # no script-specific character: ties go to zh
        ("هل تستخدم Google vLLM؟", "ar"),
        ("ما هو vLLM", "ar"),
        ("vLLM क्या है?", "hi"),
        ("training में MFU का मतलब क्या है", "hi"),
        ("Почему Android тормозит при загрузке видео?", "ru"),
        ("Kafka или RabbitMQ для логов?", "ru"),
    ],
)
def test_script_decides(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_latin_sentence_quoting_foreign_characters_stays_latin() -> None:
    assert detect_language("What does 你好 mean in English?") == "en"
    assert detect_language("que significa 你好 en chino") == "es"


def test_han_tie_is_decided_by_a_chinese_family_hint_only() -> None:
    assert detect_language("日本名言", hint="zh-TW") == "zh-hant"
    assert detect_language("日本名言", hint="es-ES") == "zh"
    # A script-specific character outweighs the hint.
    assert detect_language("这个问题怎么解决", hint="zh-TW") == "zh"


def test_han_tables_hold_only_script_specific_characters() -> None:
    # Simplified text is written in GB2312: a traditional-only character must be outside it,
    # or simplified text could vote traditional.
    assert not [ch for ch in TRADITIONAL_CHARS if _encodes(ch, "gb2312")]
    assert not [ch for ch in SIMPLIFIED_CHARS if not _encodes(ch, "gb2312")]
    assert not SIMPLIFIED_CHARS & TRADITIONAL_CHARS
    assert not [ch for ch in JAPANESE_KANJI if _encodes(ch, "gb2312") or _encodes(ch, "big5")]
    assert len(SIMPLIFIED_CHARS) >= 300 and len(TRADITIONAL_CHARS) >= 300


# ---------------------------------------------------------------- Latin text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("deepseek v3 cuantos parametros tiene", "es"),
        ("q tal los redmi buds 3", "es"),
        ("¿Mistral usa vLLM?", "es"),
        ("wat does getmac -v ad", "en"),
        ("ps aux vs ps -ef whats teh diference", "en"),
        ("does DeepSeek use vLLM?", "en"),
        ("Was zeigt ps -u alice an?", "de"),
        ("Kopfhörer oder Ohrhörer", "de"),
        ("Mistral usa vLLM in produzione?", "it"),
        ("Como configurar o nginx como proxy reverso?", "pt"),
        ("Est-ce que DeepSeek utilise vLLM ?", "fr"),
        ("Utilisation d'Apache Kafka en Java", "fr"),
    ],
)
def test_latin_with_embedded_english_names(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "token", ["DeepSeek", "vLLM", "GitHub", "eclipse.ini", "-ef", "gpt-4o", "v3", "API", "snake_case", "Kafka", "c++"]
)
def test_names_and_identifiers_are_not_words(token: str) -> None:
    assert _is_tech_token(token, LEARNED)  # "Kafka" only because the notes teach it (LEARNED)


def test_a_plain_word_is_a_name_only_when_the_notes_teach_it() -> None:
    assert not _is_tech_token("Kafka") and _is_tech_token("Kafka", frozenset({"kafka"}))


@pytest.mark.parametrize("token", ["Warum", "está", "what", "Qu'est-ce", "l'option", "qué?"])
def test_ordinary_words_are_words(token: str) -> None:
    assert not _is_tech_token(token)


def test_unknown_product_names_do_not_vote() -> None:
    # Long English-looking identifiers outnumber the two Spanish words; only their removal
    # leaves the question Spanish.
    assert detect_language("¿HyperScaleInferenceServer o DistributedTrainingPipeline?") == "es"


def test_inverted_question_mark_is_spanish_even_around_names_only() -> None:
    # ¿ sits outside every word, so it must be read from the text, not from the words.
    assert detect_language("¿Ollama soporta ROCm?") == "es"
    assert detect_language("¿vLLM?") == "es"
    assert detect_language("¡Kafka no arranca!") == "es"


def test_model_stays_restricted_to_the_latin_candidates() -> None:
    detect_language("¿Qué es vLLM?")
    assert sorted(_latin_identifier().labels) == sorted(LATIN_CANDIDATES)


# ---------------------------------------------------------------- hint


# Names the notes keep untranslated (knowledge.names learns them; here, as a blog about them would teach).
LEARNED = frozenset({"kafka", "alice", "vllm", "deepseek"})


@pytest.mark.parametrize("text", ["vLLM?", "DeepSeek", "", "🚀🔥", "git rebase", "Kafka", "v3 vLLM"])
def test_hint_decides_when_the_text_carries_no_language(text: str) -> None:
    assert detect_language(text, hint="es-ES", names=LEARNED) == "es"
    assert detect_language(text, hint="zh_TW", names=LEARNED) == "zh-hant"
    assert detect_language(text, names=LEARNED) == "en"
    assert detect_language_scored(text, hint="es-ES", names=LEARNED) == ("es", 0.0)


def test_a_misspelt_name_does_not_vote_for_english() -> None:
    assert detect_language("deepsek usa vllm", names=LEARNED) == "es"
    assert detect_language("does deepsek use vllm", names=LEARNED) == "en"


@pytest.mark.parametrize(
    ("text", "hint", "lang"),
    [
        ("does DeepSeek use vLLM?", "es-ES", "en"),
        ("¿Qué es vLLM?", "en-US", "es"),
        ("Was zeigt ps -u alice an?", "fr-FR", "de"),
        ("Kafka 消费者", "es-ES", "zh"),
        ("vLLMとは何ですか", "ko", "ja"),
    ],
)
def test_hint_does_not_override_evidence(text: str, hint: str, lang: str) -> None:
    assert detect_language(text, hint=hint, names=LEARNED) == lang


def test_hint_breaks_a_close_latin_call() -> None:
    # "como uso" is Spanish and Portuguese alike; the locale settles it both ways.
    assert detect_language("como uso ollama", hint="es-ES", names=frozenset({"ollama"})) == "es"
    assert detect_language("como uso ollama", hint="pt-BR", names=frozenset({"ollama"})) == "pt"


def test_unknown_or_broken_hint_is_ignored() -> None:
    assert detect_language("vLLM?", hint="sv-SE") == "en"  # not a supported language
    assert detect_language("vLLM?", hint="") == "en"
    assert detect_language("vLLM?", hint="!!") == "en"


# ---------------------------------------------------------------- garbage


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀😀😀🎉👍🏽",
        "\x00\x01\x02\x1b[31m\x7f",
        "\ud800 lone surrogate",
        "a" * 10_000,
        "word " * 2_000,
        "<@123456789> <#42> <@&7> @everyone @here",
        "**bold** _it_ ~~x~~ > quote\n# title\n- [link](https://example.com)",
        "```python\nprint('hello world')\n```",
        "https://github.com/vllm-project/vllm/issues/1",
        "\u200b\u200d\ufeff",
        "؟؟؟ ... !!! ¿¿",
        "Ελληνικά κείμενα εδώ",  # an unsupported script
    ],
)
def test_garbage_never_raises(text: str) -> None:
    lang, confidence = detect_language_scored(text)
    assert lang in LANGUAGES
    assert 0.0 <= confidence <= 1.0
    assert detect_language(text, hint="de-DE") in LANGUAGES


def test_noise_is_stripped_before_deciding() -> None:
    assert detect_language("¿cómo instalo vLLM? https://docs.vllm.ai 🚀") == "es"
    assert detect_language("**Warum** ist mein `docker ps` so langsam?") == "de"
    assert detect_language("```\nTraceback (most recent call last):\n```\n这个错误是什么意思") == "zh"
    assert detect_language("🚀" * 5_000 + " ¿qué es vLLM?") in LANGUAGES


def test_huge_input_is_decided_from_its_start() -> None:
    # Speed is measured in bench/language_detection.py, not here.
    assert detect_language("¿qué es vLLM? " + "palabra " * 200_000) == "es"
    assert detect_language("what is vLLM? " + "palabra " * 200_000) == "en"


def test_confidence_is_high_for_clear_text_and_zero_for_fallbacks() -> None:
    assert detect_language_scored("¿Cómo se configura log4j en un proyecto de maven?")[1] > 0.7
    assert detect_language_scored("这个问题怎么解决")[1] > 0.7
    assert detect_language_scored("vLLM?") == ("en", 0.0)


# ---------------------------------------------------------------- measured


def _questions() -> list[dict[str, str]]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))


def test_question_set_covers_every_language() -> None:
    counts = Counter(item["lang"] for item in _questions())
    assert set(counts) == set(LANGUAGES)
    assert min(counts.values()) >= 20


def test_accuracy_floor_on_labelled_questions() -> None:
    items = _questions()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item in items:
        total[item["lang"]] += 1
        right[item["lang"]] += detect_language(item["q"]) == item["lang"]
    overall = sum(right.values()) / len(items)
    worst = min(right[lang] / total[lang] for lang in total)
    assert overall >= 0.95, f"overall accuracy {overall:.3f}"
    assert worst >= 0.85, {lang: f"{right[lang]}/{total[lang]}" for lang in total}
